#!/usr/bin/env python3
"""Paper-style figure of one izhinet output folder: raster, r, <v>, <w>.

    python3 tools/plot_run.py OUT_DIR [--out figure.png] [--tmin 0] [--tmax T]

Reads OUT_DIR/timeseries.csv (network), and when present spikes.csv,
meanfield.csv (exact mean field) and meanfield_slow.csv (slow-adaptation
mean field, no v column). One column of panels per population.
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        return {}
    header = rows[0]
    cols = {h: [] for h in header}
    for row in rows[1:]:
        if len(row) != len(header):
            continue  # a partially written last line of an interrupted run
        for h, x in zip(header, row):
            cols[h].append(float(x) if x not in ("", "nan") else float("nan"))
    return cols


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--out", default=None, help="figure file (default DIR/figure.png)")
    ap.add_argument("--tmin", type=float, default=None)
    ap.add_argument("--tmax", type=float, default=None)
    ap.add_argument("--title", default=None)
    a = ap.parse_args()

    ts_path = os.path.join(a.dir, "timeseries.csv")
    if not os.path.exists(ts_path):
        sys.exit(f"plot_run: no timeseries.csv in {a.dir}")
    net = read_csv(ts_path)
    mf = read_csv(os.path.join(a.dir, "meanfield.csv")) if os.path.exists(os.path.join(a.dir, "meanfield.csv")) else {}
    slow = (read_csv(os.path.join(a.dir, "meanfield_slow.csv"))
            if os.path.exists(os.path.join(a.dir, "meanfield_slow.csv")) else {})
    spikes = (read_csv(os.path.join(a.dir, "spikes.csv"))
              if os.path.exists(os.path.join(a.dir, "spikes.csv")) else {})
    P = sum(1 for k in net if k.startswith("r"))
    title = a.title
    if title is None and os.path.exists(os.path.join(a.dir, "summary.json")):
        with open(os.path.join(a.dir, "summary.json")) as f:
            s = json.load(f)
        p = s["parameters"]
        title = (f"n = {p['network']['n']}, eta_bar = {p['population'][0]['eta_bar']}, "
                 f"scheme {p['run']['scheme']}, backend {s['backend']}")

    t = net["t"]
    tmin = a.tmin if a.tmin is not None else t[0]
    tmax = a.tmax if a.tmax is not None else t[-1]
    fig, axes = plt.subplots(4, P, figsize=(7 * P, 9), sharex=True, squeeze=False)
    for i in range(P):
        ax = axes[0][i]
        if spikes:
            sel = [k for k, pop in enumerate(spikes["population"]) if int(pop) == i and int(spikes["replica"][k]) == 0]
            ax.plot([spikes["t"][k] for k in sel], [spikes["neuron"][k] for k in sel], "k.", ms=1)
        ax.set_ylabel("neuron")
        ax.set_title(f"population {i}" + (f" — {title}" if title and i == 0 else ""), fontsize=9)
        for row, (var, label) in enumerate([("r", "r"), ("v", "<v>"), ("w", "<w>")], start=1):
            ax = axes[row][i]
            ax.plot(t, net[f"{var}{i}"], color="tab:blue", lw=0.8, label="network")
            if mf and f"{var}{i}" in mf:
                ax.plot(mf["t"], mf[f"{var}{i}"], color="tab:red", lw=1.0, ls="--", label="exact mean field")
            if slow and f"{var}{i}" in slow:
                ax.plot(slow["t"], slow[f"{var}{i}"], color="tab:green", lw=1.0, ls=":", label="slow-adaptation MF")
            ax.set_ylabel(label)
            if row == 1:
                ax.legend(fontsize=8, loc="upper right")
        axes[3][i].set_xlabel("t (dimensionless; 1 unit = 1.538 ms)")
        axes[3][i].set_xlim(tmin, tmax)
    fig.tight_layout()
    out = a.out or os.path.join(a.dir, "figure.png")
    fig.savefig(out, dpi=110)
    print(f"plot_run: wrote {out}")


if __name__ == "__main__":
    main()
