"""nn: modules, layers, losses and optimizers built on minigrad (arrives with issue 3)."""
