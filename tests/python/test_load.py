"""izhinet.load() on folders the executable wrote (no compiled module needed),
checked against an independent reading with the csv module."""
import csv
import json
import math
import os

import numpy as np
import pytest

import izhinet
from conftest import SMALL, TONIC, cli, cli_run


def rows(path):
    with open(path) as f:
        r = list(csv.reader(f))
    return r[0], [[float(x) for x in row] for row in r[1:]]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    cli_run(d)
    return d


def test_load_matches_the_csv_files(run_dir):
    res = izhinet.load(run_dir)
    header, data = rows(run_dir / "timeseries.csv")
    assert header == ["t", "r0", "v0", "w0", "s0"]
    assert res["r"].shape == (1, len(data), 1)
    for j, q in enumerate("rvws"):
        got = res[q][0, :, 0]
        want = [row[1 + j] for row in data]
        assert all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want))
    # the time grid starts at 0 and steps by record_every * dt = 0.1
    assert res["t"][0] == 0.0
    np.testing.assert_allclose(np.diff(res["t"]), 0.1, rtol=1e-9)
    # spikes and eta as in their files
    sh, sd = rows(run_dir / "spikes.csv")
    assert len(res["spikes"]["t"]) == len(sd) > 0
    assert res["spikes"]["neuron"].dtype == np.int64
    assert list(res["spikes"]["neuron"][:5]) == [int(r[3]) for r in sd[:5]]
    eh, ed = rows(run_dir / "eta.csv")
    assert list(res["eta"]["eta"]) == [r[3] for r in ed]
    # the JSON files and config.toml
    assert res["summary"]["status"] == "completed"
    with open(run_dir / "validation.json") as f:
        assert res["validation"] == json.load(f)
    assert "[network]" in res["config"]
    # the exact mean field on the same grid as the network
    mf = res["meanfield"]
    np.testing.assert_allclose(mf["t"], res["t"][: len(mf["t"])], rtol=0, atol=1e-12)
    assert mf["r"].shape[1] == 1 and "v" not in res["meanfield_slow"]


def test_load_of_an_mf_folder(tmp_path):
    cli("mf", "-c", TONIC, "--out", str(tmp_path), "-q", "-s", "run.t_end=50")
    res = izhinet.load(tmp_path)
    assert "r" not in res and res["meanfield"]["r"].shape[1] == 1
    assert len(res["equilibria"]) >= 1 and "stable" in res["equilibria"][0]
    assert res["summary"]["command"] == "mf"


def test_load_of_replica_folders(tmp_path):
    cli_run(tmp_path, sets=SMALL + ["network.replicas=3", "network.n=300"])
    res = izhinet.load(tmp_path)
    assert res["r"].shape[0] == 3
    _, d1 = rows(tmp_path / "replica_1" / "timeseries.csv")
    assert list(res["w"][1, :, 0]) == [r[3] for r in d1]
    assert "validation" in res  # replica_0/validation.json


def test_load_refuses_a_folder_without_outputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no izhinet output"):
        izhinet.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        izhinet.load(tmp_path / "missing")


def test_to_toml_reads_back_as_the_same_configuration():
    tomllib = pytest.importorskip("tomllib")

    with open(TONIC, "rb") as f:
        cfg = tomllib.load(f)
    assert tomllib.loads(izhinet.to_toml(cfg)) == cfg
