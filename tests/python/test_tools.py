"""The helper scripts in tools/ on bad input: one error line naming the
problem, exit status 2, no traceback; and plot_bifurcation.py with networks
that are inconclusive or diverged."""
import json
import os
import subprocess
import sys

import pytest

from conftest import SOURCE

pytest.importorskip("matplotlib")


def tool(name, *args):
    return subprocess.run([sys.executable, os.path.join(SOURCE, "tools", name), *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def refused(p, *words):
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], lines[0]


def write_run(d, replicas):
    for k in range(replicas):
        sub = d / f"replica_{k}"
        sub.mkdir(parents=True)
        rows = ["t,r0,v0,w0,s0"] + [f"{t},{0.1 + 0.001 * t},0.5,0.2,0.3" for t in range(0, 60)]
        (sub / "timeseries.csv").write_text("\n".join(rows) + "\n")


def test_missing_folders(tmp_path):
    refused(tool("metrics_table.py", tmp_path / "nope"), "nope", "no such folder")
    (tmp_path / "empty").mkdir()
    refused(tool("metrics_table.py", tmp_path / "empty"), "validation.json")
    refused(tool("plot_bifurcation.py", tmp_path / "nope"), "no such folder")
    refused(tool("plot_run.py", tmp_path / "nope"), "no such folder")


def test_plot_run_replica_and_time_range(tmp_path):
    write_run(tmp_path / "run", 3)
    refused(tool("plot_run.py", tmp_path / "run", "--replica", 7), "replica 7 does not exist", "0..2")
    refused(tool("plot_run.py", tmp_path / "run", "--tmin", 50, "--tmax", 10), "--tmin")
    p = tool("plot_run.py", tmp_path / "run", "--replica", 2, "--out", tmp_path / "r2.png")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "r2.png").stat().st_size > 0


def test_plot_bifurcation_with_inconclusive_and_diverged_networks(tmp_path):
    key = "population.0.eta_bar"
    bif = tmp_path / "bif"
    bif.mkdir()
    cols = "r0_min,r0_max,r0_mean,v0_min,v0_max,v0_mean,w0_min,w0_max,w0_mean,s0_min,s0_max,s0_mean"
    rows = [f"branch,kind,{key},stable,period,{cols},leading_re,leading_im"]
    for k in range(11):
        x = 0.03 * k
        vals = ",".join([str(0.01 + x)] * 12)
        rows.append(f"EP1,EP,{x},{1 if x > 0.15 else 0},,{vals},-0.1,0")
    (bif / "branches.csv").write_text("\n".join(rows) + "\n")
    (bif / "special_points.json").write_text(json.dumps({"special_points": [
        {"type": "H", "branch": "EP1", key: 0.15, "state": {"w0": 0.16}},
        {"type": "LPC", "branch": "PO1", key: 0.1501, "state": {"w0": 0.161}}]}))
    sw = tmp_path / "sweep"
    refused(tool("plot_bifurcation.py", bif, "--sweep", sw), "--sweep", "no such folder")
    sw.mkdir()
    refused(tool("plot_bifurcation.py", bif, "--sweep", sw), "sweep.csv")
    sweep_cols = cols.split(",")
    lines = [f"{key},direction,regime,period," + ",".join(sweep_cols)]
    for x, regime in ((0.05, "oscillation"), (0.1, "inconclusive"), (0.2, "equilibrium"), (0.25, "diverged")):
        v = "nan" if regime == "diverged" else str(0.01 + x)
        lines.append(f"{x},none,{regime},{'200' if regime == 'oscillation' else 'nan'}," + ",".join([v] * 12))
    (sw / "sweep.csv").write_text("\n".join(lines) + "\n")
    p = tool("plot_bifurcation.py", bif, "--sweep", sw, "--var", "w0", "--out", tmp_path / "f.png")
    assert p.returncode == 0, p.stderr
    assert "1 inconclusive (hollow grey), 1 diverged (grey cross)" in p.stdout  # not drawn as equilibria
    assert (tmp_path / "f.png").stat().st_size > 0
