"""izhinet.bif(): runs `izhinet bif` (no --progress: bif has none), passes its
options, and load() of the folder gives the branches and the special points."""
import json
import os

import numpy as np
import pytest

import izhinet
from conftest import BINARY, SOURCE

FIG1A = os.path.join(SOURCE, "configs", "fig1a.toml")
KEY = "population.0.eta_bar"


@pytest.fixture(autouse=True)
def _executable(monkeypatch):
    if not os.path.exists(BINARY):
        pytest.skip(f"the izhinet executable is not built ({BINARY})")
    monkeypatch.setenv("IZHINET_EXECUTABLE", BINARY)


def test_bif_without_orbits_finds_the_two_hopf_points_of_fig1a(tmp_path):
    res = izhinet.bif(FIG1A, KEY, 0.0, 0.3, tmp_path / "bif", orbits=False)
    # README (Fig. 1a as computed) and tests/test_bifurcation.cpp: two subcritical Hopf points
    h = sorted(s[KEY] for s in res["special_points"] if s["type"] == "H")
    np.testing.assert_allclose(h, [0.0748928, 0.1909396], atol=1e-6)
    assert all(s["first_lyapunov_coefficient"] > 0 for s in res["special_points"] if s["type"] == "H")
    # --no-orbits: equilibria only, over the whole interval
    assert set(res["branches"]["kind"]) == {"EP"}
    assert res["branches"][KEY].min() <= 1e-12 and res["branches"][KEY].max() >= 0.3 - 1e-12
    # what was asked reached the executable
    with open(tmp_path / "bif" / "special_points.json") as f:
        assert json.load(f)["special_points"] == res["special_points"]


def test_bif_orbits_mesh_and_at(tmp_path):
    res = izhinet.bif(FIG1A, KEY, 0.05, 0.15, tmp_path / "bif", mesh=40, ncol=4, at=0.12)
    uz = [s for s in res["special_points"] if s["type"] == "UZ"]
    assert len(uz) == 1
    assert uz[0][KEY] == pytest.approx(0.12, abs=1e-12)
    # the bursting orbit of the paper's point: period ~227 (the N = 2000 network of fig1c: ~231)
    assert 215 < uz[0]["period"] < 240
    assert "PO" in set(res["branches"]["kind"])
    assert any(s["type"] == "LPC" for s in res["special_points"])


def test_bif_errors_are_exceptions(tmp_path):
    with pytest.raises(izhinet.ConfigError, match="--mesh"):
        izhinet.bif(FIG1A, KEY, 0.05, 0.15, tmp_path / "a", mesh=1)
    with pytest.raises(izhinet.ConfigError, match="no_such_key"):
        izhinet.bif(FIG1A, "population.0.no_such_key", 0.0, 0.3, tmp_path / "b", orbits=False)
