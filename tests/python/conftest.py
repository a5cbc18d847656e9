"""Shared fixtures of the Python tests (run by CTest: python_tests, see python/CMakeLists.txt).

IZHINET_BINARY names the izhinet executable and IZHINET_SOURCE_DIR the
repository; both are set by CTest (defaults: build/izhinet, the repository)."""
import os
import subprocess

import pytest

SOURCE = os.environ.get("IZHINET_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("IZHINET_BINARY", os.path.join(SOURCE, "build", "izhinet"))

# A small run at the paper's tonic point: quantile sampling, one population, short.
TONIC = os.path.join(SOURCE, "configs", "paper_tonic.toml")
SMALL = ["network.n=1000", "run.t_end=60", "run.record_every=100", "run.spike_neurons=20", "meanfield.transient=20"]


def kwargs(sets):
    """Keyword overrides for izhinet.run from section.key=value strings."""
    out = {}
    for s in sets:
        k, v = s.split("=", 1)
        out[k.replace(".", "__")] = eval(v, {"true": True, "false": False})  # numbers and quoted strings only
    return out


def cli(*args, check=True):
    """Runs the izhinet executable; returns the CompletedProcess."""
    if not os.path.exists(BINARY):
        pytest.skip(f"the izhinet executable is not built ({BINARY})")
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"izhinet {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def cli_run(out, config=TONIC, sets=SMALL, extra=()):
    args = ["run", "-c", config, "--out", str(out), "--backend", "cpu", "--threads", "1", "--progress", "0", "-q"]
    for s in sets:
        args += ["-s", s]
    return cli(*args, *extra)


@pytest.fixture(scope="session")
def izh():
    """The izhinet package with its compiled module (skips, saying why, without it)."""
    import izhinet

    if not izhinet.available():
        why = os.environ.get("IZHINET_PYTHON_STATUS") or str(izhinet._core_import_error)
        pytest.skip(f"the compiled module izhinet._core is not built: {why}")
    return izhinet
