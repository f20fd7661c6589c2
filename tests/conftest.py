"""Shared fixtures. The suite runs on the backend named by MINIGRAD_BACKEND (numpy by default),
so the same tests validate CuPy on a GPU machine: ``MINIGRAD_BACKEND=cupy python -m pytest``."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:  # torch is a test oracle only
    torch = None


def pytest_configure(config: pytest.Config) -> None:
    """A MINIGRAD_BACKEND that names no usable backend ends the run at once, in one line."""
    try:
        mg.get_backend()
    except mg.BackendError as err:
        pytest.exit(f"minigrad: {err}", returncode=2)


def pytest_report_header(config: pytest.Config) -> str:
    torch_version = (
        torch.__version__ if torch is not None else "not installed (comparisons skipped)"
    )
    return f"minigrad backend: {mg.get_backend()}; torch oracle: {torch_version}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if mg.get_backend() == "cupy":
        return
    skip_gpu = pytest.mark.skip(reason="needs MINIGRAD_BACKEND=cupy on a machine with a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With MINIGRAD_FAILURE_LOG set, each failure is appended to that file as it happens (by
    the controlling process under pytest-xdist), so a run cut off at a time limit (.ci/gpu-check)
    still tells what failed and why."""
    path = os.environ.get("MINIGRAD_FAILURE_LOG")
    if not path or not report.failed or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    lines = report.longreprtext.splitlines()
    text = "\n".join(lines if len(lines) <= 60 else [*lines[:20], "...", *lines[-40:]])
    with open(path, "a") as log:
        log.write(f"=== {report.nodeid} ({report.when})\n{text}\n\n")


@pytest.fixture(autouse=True)
def _restore_state():
    """Each test starts on the session's backend, with grad enabled and a fixed seed."""
    name = mg.get_backend()
    mg.manual_seed(0)
    yield
    mg.set_backend(name)
    assert mg.is_grad_enabled(), "a test left grad mode disabled"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def device() -> str:
    """The device tensors go to by default on this run's backend."""
    return mg.backend.default_device()


def torch_device() -> str:
    """Where the PyTorch oracle runs: CUDA when minigrad runs on CuPy and torch sees a GPU."""
    if mg.get_backend() == "cupy" and torch is not None and torch.cuda.is_available():
        return "cuda"
    return "cpu"


@pytest.fixture
def device_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions that read arrays to the host, one entry per read, recorded by
    patching minigrad.backend.to_host (through which the packages make every such read)."""
    reads: list[str] = []
    to_host = mg.backend.to_host

    def recording_to_host(arr):
        reads.append(sys._getframe(1).f_code.co_name)
        return to_host(arr)

    monkeypatch.setattr(mg.backend, "to_host", recording_to_host)
    return reads
