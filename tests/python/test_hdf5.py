"""run.format = "hdf5": run.h5 holds the same numbers as the CSV files."""
import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest

import izhinet
from conftest import BINARY, SMALL, SOURCE, TONIC, cli_run


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    pytest.importorskip("h5py", reason="h5py is not installed (Debian: python3-h5py)")
    csv_dir = tmp_path_factory.mktemp("csv")
    h5_dir = tmp_path_factory.mktemp("h5")
    sets = SMALL + ["network.replicas=2"]
    cli_run(csv_dir, sets=sets)
    cli_run(h5_dir, sets=sets + ['run.format="hdf5"'], extra=("--overwrite",))
    return csv_dir, h5_dir


def test_hdf5_content_equals_the_csv_content(both):
    csv_dir, h5_dir = both
    assert os.path.exists(h5_dir / "run.h5") and not os.path.exists(h5_dir / "timeseries.csv")
    a, b = izhinet.load(csv_dir), izhinet.load(h5_dir)
    assert a["r"].shape == b["r"].shape == (2, a["t"].size, 1)
    np.testing.assert_array_equal(a["t"], b["t"])
    for q in "rvws":
        np.testing.assert_array_equal(a[q], b[q])
    for group in ("spikes", "eta"):
        for k in a[group]:
            np.testing.assert_array_equal(a[group][k], b[group][k])
            assert a[group][k].dtype == b[group][k].dtype
    assert a["spikes"]["t"].size > 0
    # the mean field and the verdict are there too (as files beside run.h5)
    np.testing.assert_array_equal(a["meanfield"]["r"], b["meanfield"]["r"])
    assert a["validation"]["outcome"] == b["validation"]["outcome"]


def test_hdf5_attributes_carry_the_provenance(both):
    import h5py

    _, h5_dir = both
    with h5py.File(h5_dir / "run.h5", "r") as f:
        prov = json.loads(f.attrs["provenance"])
        params = json.loads(f.attrs["parameters"])
        assert f["timeseries"].attrs["columns"] == "t,r0,v0,w0,s0"
        assert f["timeseries"].chunks is not None  # chunked, grown as rows arrive
    with open(h5_dir / "summary.json") as fj:
        summary = json.load(fj)
    assert prov["git_commit"] == summary["provenance"]["git_commit"]
    assert params["run"]["format"] == "hdf5" and params["network"]["replicas"] == 2


def test_plot_run_reads_run_h5(both, tmp_path):
    pytest.importorskip("matplotlib")
    _, h5_dir = both
    png = tmp_path / "fig.png"
    p = subprocess.run([sys.executable, os.path.join(SOURCE, "tools", "plot_run.py"), str(h5_dir), "--out", str(png)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert png.stat().st_size > 10000


def test_a_failed_hdf5_write_is_one_error_line_and_exit_status_5(tmp_path):
    # A file-size limit (ulimit -f 16 KiB) makes HDF5's writes fail with EFBIG, as a full disk would.
    if not os.path.exists(BINARY):
        pytest.skip(f"the izhinet executable is not built ({BINARY})")
    args = [BINARY, "run", "-c", TONIC, "--out", str(tmp_path / "out"), "--backend", "cpu", "--threads", "1", "-q",
            "-s", "network.n=2000", "-s", "run.t_end=50", "-s", "run.record_every=1", "-s", "run.spike_neurons=1000",
            "-s", 'run.format="hdf5"', "--no-meanfield"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384)))
    log = p.stdout + p.stderr
    assert p.returncode == 5, (p.returncode, log)  # not a crash in HDF5's exit handler
    errors = [line for line in log.splitlines() if "[error]" in line]
    assert len(errors) == 1 and "run.h5" in errors[0] and "File too large" in errors[0], log
    with open(tmp_path / "out" / "summary.json") as f:
        summary = json.load(f)
    assert summary["status"] == "io_error" and summary["failed_file"].endswith("run.h5")
