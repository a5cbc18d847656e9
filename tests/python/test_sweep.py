"""izhinet.sweep(): the same rows as the executable's sweep, load() of a sweep
folder, errors as exceptions."""
import os

import numpy as np
import pytest

import izhinet
from conftest import BINARY, SOURCE, cli

BURSTING = os.path.join(SOURCE, "configs", "paper_bursting.toml")
SETS = ["network.n=500", "run.dt=2e-3", "run.t_end=300", "meanfield.transient=100"]


@pytest.fixture(autouse=True)
def _executable(monkeypatch):
    if not os.path.exists(BINARY):
        pytest.skip(f"the izhinet executable is not built ({BINARY})")
    monkeypatch.setenv("IZHINET_EXECUTABLE", BINARY)


def _cli_sweep(out):
    args = ["sweep", "-c", BURSTING, "--out", str(out), "--backend", "cpu", "--threads", "1", "--progress", "0", "-q",
            "--param", "population.0.eta_bar", "--values", "0.25,0.3"]
    for s in SETS:
        args += ["-s", s]
    cli(*args)


def test_sweep_matches_the_executable(tmp_path):
    _cli_sweep(tmp_path / "cli")
    res = izhinet.sweep(BURSTING, "population.0.eta_bar", [0.25, 0.3], tmp_path / "py", backend="cpu", threads=1,
                        set={"network.n": 500, "run.dt": 2e-3, "run.t_end": 300.0, "meanfield.transient": 100.0})
    ref = izhinet.load(tmp_path / "cli")["sweep"]
    got = res["sweep"]
    assert list(got) == list(ref)  # same columns, in order
    assert list(got["population.0.eta_bar"]) == [0.25, 0.3]
    for col in got:
        if col == "wall_seconds":
            continue
        if got[col].dtype.kind == "f":
            np.testing.assert_array_equal(got[col], ref[col], err_msg=col)
        else:
            assert list(got[col]) == list(ref[col]), col
    # tonic side of the upper Hopf point: both at an equilibrium, the network's late r near the mean field's
    # (N = 500 at dt = 2e-3: a finite-size and truncation bias of ~8 %)
    assert list(got["regime"]) == ["equilibrium", "equilibrium"]
    np.testing.assert_allclose(got["r0_mean"], got["mf_r0_mean"], rtol=0.12)


def test_sweep_errors_are_exceptions(tmp_path):
    with pytest.raises(izhinet.ConfigError, match="no_such_key"):
        izhinet.sweep(BURSTING, "population.0.no_such_key", [0.1, 0.2], tmp_path / "bad")
    with pytest.raises(izhinet.ConfigError, match="--values"):
        izhinet.sweep(BURSTING, "population.0.eta_bar", "0.1:0.2", tmp_path / "bad2")


def test_frames_of_a_sweep_and_a_run(tmp_path):
    pd = pytest.importorskip("pandas")
    _cli_sweep(tmp_path / "cli")
    f = izhinet.frames(izhinet.load(tmp_path / "cli"))
    sw = f["sweep"]
    assert isinstance(sw, pd.DataFrame)
    assert list(sw["population.0.eta_bar"]) == [0.25, 0.3]
    assert list(sw["regime"]) == ["equilibrium", "equilibrium"]
    # the frame holds the file's numbers
    ref = izhinet.read_table(tmp_path / "cli" / "sweep.csv")
    np.testing.assert_array_equal(sw["mf_w0_mean"].to_numpy(), ref["mf_w0_mean"])
    args = ["run", "-c", BURSTING, "--out", str(tmp_path / "run"), "--backend", "cpu", "--threads", "1",
            "--progress", "0", "-q", "-s", "network.n=200", "-s", "run.t_end=20", "-s", "run.record_every=100"]
    cli(*args)
    res = izhinet.load(tmp_path / "run")
    fr = izhinet.frames(res)
    ts = fr["timeseries"]
    assert list(ts.columns[:6]) == ["replica", "t", "r0", "v0", "w0", "s0"]
    np.testing.assert_array_equal(ts["w0"].to_numpy(), res["w"][0, :, 0])
    assert len(fr["meanfield"]) == len(res["meanfield"]["t"])
