"""transformer: the encoder-decoder model of "Attention Is All You Need" (arrives with issue 4)."""
