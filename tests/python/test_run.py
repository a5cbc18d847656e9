"""izhinet.run() and izhinet.mf(): known answers, the same numbers as the
executable, errors, Ctrl-C and the GIL."""
import os
import signal
import threading
import time

import numpy as np
import pytest

from conftest import SMALL, TONIC, cli_run, kwargs


@pytest.fixture(scope="module")
def small(izh):
    return izh.run(TONIC, backend="cpu", threads=1, **kwargs(SMALL))


def test_run_returns_the_same_numbers_as_the_executable(izh, small, tmp_path):
    cli_run(tmp_path)
    disk = izh.load(tmp_path)
    np.testing.assert_array_equal(small["t"], disk["t"])
    for q in "rvws":  # the CSV numbers read back to the same doubles
        np.testing.assert_array_equal(small[q], disk[q])
    for k in ("t", "replica", "population", "neuron"):
        np.testing.assert_array_equal(small["spikes"][k], disk["spikes"][k])
    for k in ("replica", "population", "neuron", "eta"):
        np.testing.assert_array_equal(small["eta"][k], disk["eta"][k])
    # the validator reached the same verdict in memory and on disk
    assert small["validation"]["verdict"] == disk["validation"]["verdict"]
    assert small["validation"]["outcome"] == disk["validation"]["outcome"]
    # the exact mean field: one integration here, the validator's chunked one on disk (both DOPRI5, rtol 1e-8)
    n = min(len(small["meanfield"]["t"]), len(disk["meanfield"]["t"]))
    assert n == len(small["t"])
    np.testing.assert_allclose(small["meanfield"]["r"][:n], disk["meanfield"]["r"][:n], rtol=1e-5, atol=1e-7)
    assert small["summary"]["status"] == "completed"
    assert small["summary"]["provenance"]["git_commit"] == disk["summary"]["provenance"]["git_commit"]


def test_run_agrees_with_the_mean_field_at_the_tonic_point(izh):
    # Tonic firing: the network's r settles on the exact mean field's stable equilibrium (the paper's Fig. 2 point).
    res = izh.run(TONIC, backend="cpu", network__n=4000, run__t_end=400, run__record_every=100, run__spike_neurons=0,
                  meanfield__transient=200)
    late = res["t"] > 300
    r_net = res["r"][0, late, 0].mean()
    stable = [e for e in izh.mf(TONIC, run__t_end=10)["equilibria"] if e["stable"]]
    assert len(stable) == 1
    r_eq = stable[0]["populations"][0]["r"]
    r_mf = res["meanfield"]["r"][late, 0].mean()
    assert r_eq > 0.01
    assert abs(r_mf - r_eq) < 1e-3 * r_eq  # the trajectory has reached the equilibrium
    assert abs(r_net - r_eq) < 0.05 * r_eq, (r_net, r_eq)
    assert res["validation"]["outcome"] == "agree", res["validation"]["verdict"]


def test_mf_trajectory_reaches_its_stable_equilibrium(izh):
    res = izh.mf(TONIC, run__t_end=600)
    mf = res["meanfield"]
    stable = [e for e in res["equilibria"] if e["stable"]][0]["populations"][0]
    for q in "rvws":  # DOPRI5 trajectory against the Newton solution: two independent computations
        assert abs(mf[q][-1, 0] - stable[q]) < 1e-4 * max(1.0, abs(stable[q])), q
    np.testing.assert_allclose(mf["t"][1] - mf["t"][0], 1e-2)  # record_every 10 x dt 1e-3


def test_config_as_a_dict_and_overrides(izh, small):
    tomllib = pytest.importorskip("tomllib")
    with open(TONIC, "rb") as f:
        cfg = tomllib.load(f)
    res = izh.run(cfg, backend="cpu", threads=1, set={"network.n": 1000}, **kwargs(SMALL[1:]))
    np.testing.assert_array_equal(res["r"], small["r"])
    assert 'scheme = "paper"' in res["config"]
    short = izh.run(cfg, backend="cpu", meanfield=False, network__n=200, run__t_end=5, run__record_every=100)
    assert short["r"].shape == (1, 51, 1) and short["validation"] is None and "meanfield" not in short


def test_time_dependent_input_as_a_dict_override(izh, tmp_path):
    """A dict becomes an inline TOML table: the same run as the executable's --set with that table."""
    step = {"kind": "steps", "times": [20.0], "values": [0.1]}
    sets = ["network.n=300", "run.t_end=40", "run.record_every=100", "meanfield.transient=10"]
    res = izh.run(TONIC, backend="cpu", threads=1, population__0__I_ext=step, **kwargs(sets))
    assert 'kind = "steps"' in res["config"]
    assert res["summary"]["parameters"]["population"][0]["I_ext"]["kind"] == "steps"
    cli_run(tmp_path / "cli", sets=sets, extra=["-s", 'population.0.I_ext={ kind = "steps", times = [20.0], '
                                                      'values = [0.1] }'])
    ref = izh.load(tmp_path / "cli")
    np.testing.assert_array_equal(res["r"], ref["r"])
    assert izh.to_toml({"a": {"b": {"c d": 1, "e": [1.5]}}}) == '[a]\n[a.b]\n"c d" = 1\ne = [1.5]\n'
    from izhinet._config import toml_value

    assert toml_value({"kind": "table", "times": [0, 1.5]}) == '{ kind = "table", times = [0, 1.5] }'


def test_threads_beyond_the_cores_are_capped_and_reported(izh):
    cores = len(os.sched_getaffinity(0))
    res = izh.run(TONIC, backend="cpu", threads=cores + 7, meanfield=False, network__n=200, run__t_end=2)
    assert res["summary"]["threads"] == cores  # as izhinet run's summary.json: capped to the usable cores
    one = izh.run(TONIC, backend="cpu", threads=1, meanfield=False, network__n=200, run__t_end=2)
    assert one["summary"]["threads"] == 1


def test_errors_are_exceptions_with_the_one_line_message(izh):
    with pytest.raises(izh.ConfigError, match=r"run\.dt") as e:
        izh.run(TONIC, run__dt=-1)
    assert "\n" not in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, izh.Error)
    with pytest.raises(izh.ConfigError, match="no_such_key"):
        izh.run(TONIC, run__no_such_key=1)
    with pytest.raises(izh.ConfigError, match="backend"):
        izh.run(TONIC, backend="gpu")
    with pytest.raises(izh.ConfigError, match="cannot read"):
        izh.run("/nonexistent/config.toml")
    with pytest.raises(izh.ConfigError, match="run.format"):
        izh.run(TONIC, run__format="xml")
    with pytest.raises(TypeError):
        izh.run(42)
    # a step far too large: the state blows up and the run says when and what to try
    with pytest.raises(izh.NumericalError, match=r"non-finite between t = .* \(try a smaller run\.dt\)") as e:
        izh.run(TONIC, backend="cpu", meanfield=False, network__n=200, run__t_end=50, run__dt=0.05,
                run__record_every=1, run__rate_window=0)
    assert "kept" not in str(e.value) and isinstance(e.value, ArithmeticError)


def test_ctrl_c_stops_a_run_within_a_second_and_the_gil_is_free(izh):
    ticks = []
    stop_ticking = threading.Event()

    def tick():  # Python code that runs only when run() has released the GIL
        while not stop_ticking.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    sent = []

    def interrupt():
        time.sleep(1.5)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=tick, daemon=True).start()
    threading.Thread(target=interrupt, daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        izh.run(TONIC, backend="cpu", threads=1, network__n=2000, run__t_end=1e6, run__record_every=1000)
    t1 = time.monotonic()
    stop_ticking.set()
    assert sent, "the run ended before the signal was sent"
    assert t1 - sent[0] < 1.0, f"KeyboardInterrupt came {t1 - sent[0]:.2f} s after SIGINT"
    during = [t for t in ticks if t0 + 0.2 < t < sent[0]]
    assert len(during) > 30, f"only {len(during)} ticks of another thread during the run: the GIL was held"
