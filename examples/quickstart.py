#!/usr/bin/env python3
"""izhinet from Python, cell by cell (a notebook-style script: each `# %%`
block is a cell in Jupyter/VS Code; `python3 examples/quickstart.py` runs them
all and writes quickstart.png).

Needs the compiled module: run tools/setup.sh, build (tools/build.sh), then
    PYTHONPATH=build/python .venv/bin/python examples/quickstart.py
(or `pip install .` into an environment of your own).
"""
# %% The paper's tonic point, small and short: 2000 neurons for 300 time units.
import os

import numpy as np

import izhinet

here = os.path.dirname(os.path.abspath(__file__))
config = os.path.join(here, "..", "configs", "paper_tonic.toml")
res = izhinet.run(config, network__n=2000, run__t_end=300, run__record_every=100, meanfield__transient=150)
print(res["summary"]["status"], f"{res['summary']['wall_seconds']:.2f} s,", res["r"].shape, "(replica, time, population)")

# %% The validator's verdict and the network against the exact mean field late in the run.
print("validator:", res["validation"]["verdict"])
late = res["t"] > 200
r_net = res["r"][0, late, 0].mean()
r_mf = res["meanfield"]["r"][late, 0].mean()
print(f"late mean r: network {r_net:.5f}, exact mean field {r_mf:.5f} ({100 * (r_net / r_mf - 1):+.2f} %)")

# %% The mean field alone and its equilibria (izhinet mf).
mf = izhinet.mf(config, run__t_end=600)
for e in mf["equilibria"]:
    p = e["populations"][0]
    print(f"equilibrium r = {p['r']:.5f}, v = {p['v']:.4f}, w = {p['w']:.5f} ({'stable' if e['stable'] else 'unstable'})")

# %% Errors are Python exceptions with izhinet's one-line message.
try:
    izhinet.run(config, run__dt=-1)
except izhinet.ConfigError as e:
    print("ConfigError:", e)

# %% A figure: the network's r (smoothed over 1 time unit) and the mean field; the raster sorted by eta.
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

dt_rec = res["t"][1] - res["t"][0]
k = max(1, int(round(1.0 / dt_rec)))
smooth = np.convolve(res["r"][0, :, 0], np.ones(k) / k, mode="same")
fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
order = np.argsort(res["eta"]["eta"])  # recorded neurons, lowest eta first
rank = {n: i for i, n in enumerate(res["eta"]["neuron"][order])}
sp = res["spikes"]
ax0.plot(sp["t"], [rank[n] for n in sp["neuron"]], "|", ms=2, color="k", label="spikes (sorted by eta)")
ax0.set_ylabel("neuron (by eta)")
ax0.legend(loc="upper right")
ax1.plot(res["t"], smooth, color="tab:blue", lw=1, label="network r (1 time unit window)")
ax1.plot(res["meanfield"]["t"], res["meanfield"]["r"][:, 0], color="tab:red", lw=1.5, label="exact mean field")
ax1.set_xlabel("t (dimensionless)")
ax1.set_ylabel("r")
ax1.legend(loc="upper right")
fig.tight_layout()
fig.savefig("quickstart.png", dpi=100)
print("wrote quickstart.png")

# %% Reading an output folder of the executable (works without the compiled module, e.g. on a laptop):
#     out = izhinet.load("results/tonic")   # timeseries.csv, spikes.csv, eta.csv, meanfield.csv, *.json, or run.h5
