#!/usr/bin/env python3
"""Paper-style figure of one izhinet output folder: raster, r, <v>, <w>.

    python3 tools/plot_run.py DIR [--out figure.png] [--tmin T0] [--tmax T1]
                              [--replica K] [--smooth W] [--raster-neurons M]
                              [--physical] [--title TEXT]

DIR is the output folder of `izhinet run` (timeseries.csv, and when present
spikes.csv, eta.csv, meanfield.csv, meanfield_slow.csv; or run.h5 instead of
the first three with run.format = "hdf5", read with h5py), one replica of it
(DIR/replica_K, or DIR with --replica K), or the folder of `izhinet mf`
(meanfield.csv and equilibria.json alone: the mean field with its
equilibria). One column of panels per population.

- r and <v> of the network are drawn smoothed by a centred moving average over
  W time units (default 1; 0: as recorded) over the recorded values in a
  light colour, so that the mean-field lines stay visible; the legend says
  the window.
- The raster shows at most M neurons per population (default 100), spread
  over the recorded ones and sorted by their excitability eta (eta.csv; with
  quantile sampling the neuron index is already in eta order), lowest at the
  bottom.
- Runs configured in physical units (a `units` object in summary.json, or
  [units] in config.toml) get their time axis in ms; --physical also draws
  r in Hz, V in mV and W in pA.
"""
import argparse
import csv
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# sizes for slides: 11-12 pt text, 10 pt legends (saved at 150 dpi)
plt.rcParams.update({"font.size": 11, "axes.labelsize": 12, "axes.titlesize": 12, "legend.fontsize": 10,
                     "xtick.labelsize": 11, "ytick.labelsize": 11, "figure.titlesize": 13})


def die(msg):
    print(f"plot_run: {msg}", file=sys.stderr)
    sys.exit(2)


def read_csv(path):
    """Columns of a CSV file as lists of floats ({} if missing or empty)."""
    if not os.path.exists(path):
        return {}
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


def read_h5(path, replica):
    """(time series, spikes, eta) of one replica from a run.h5 (run.format = "hdf5"),
    as read_csv's column dicts; needs h5py."""
    try:
        import h5py
    except ImportError:
        sys.exit(f"plot_run: {path} needs h5py (Debian: python3-h5py; pip install h5py)")
    with h5py.File(path, "r") as f:
        ts = f["timeseries"]
        cols = ts.attrs["columns"]
        cols = (cols.decode() if isinstance(cols, bytes) else str(cols)).split(",")
        if replica >= ts.shape[0]:
            die(f"--replica {replica}: {path} holds {ts.shape[0]} replica(s) (valid: 0..{ts.shape[0] - 1})")
        data = ts[replica]
        net = {h: list(data[:, j]) for j, h in enumerate(cols)}
        groups = [{k: list(f[g][k][()]) for k in f[g]} if g in f else {} for g in ("spikes", "eta")]
    return net, groups[0], groups[1]


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_units(run_dir, summary):
    """time_unit_ms, voltage_unit_mV, current_unit_pA of a physical-units run, or None."""
    if summary and "units" in summary.get("parameters", {}):
        return summary["parameters"]["units"]
    path = os.path.join(run_dir, "config.toml")
    if os.path.exists(path):
        text = open(path).read()
        if re.search(r"^\[units\]", text, re.M):
            units = {}
            for key in ("time_unit_ms", "voltage_unit_mV", "current_unit_pA"):
                m = re.search(rf"^{key}\s*=\s*([-+0-9.eE]+)", text, re.M)
                if m:
                    units[key] = float(m.group(1))
            if "time_unit_ms" in units:
                return units
    return None


def moving_average(t, x, width):
    """Centred moving average of x over `width` time units (NaNs skipped)."""
    if width <= 0 or len(t) < 3:
        return list(x)
    dt = (t[-1] - t[0]) / (len(t) - 1)
    half = max(0, int(round(0.5 * width / dt)))
    if half == 0:
        return list(x)
    pre_s, pre_n = [0.0], [0]
    for v in x:
        ok = not math.isnan(v)
        pre_s.append(pre_s[-1] + (v if ok else 0.0))
        pre_n.append(pre_n[-1] + (1 if ok else 0))
    out = []
    for k in range(len(x)):
        lo, hi = max(0, k - half), min(len(x) - 1, k + half)
        n = pre_n[hi + 1] - pre_n[lo]
        out.append((pre_s[hi + 1] - pre_s[lo]) / n if n else float("nan"))
    return out


def locate(path, replica):
    """(folder with the time series, folder with spikes/eta/summary, replica index)."""
    path = os.path.normpath(path)
    m = re.fullmatch(r"replica_(\d+)", os.path.basename(path))
    if m:
        return path, os.path.dirname(path), int(m.group(1))
    if not os.path.exists(os.path.join(path, "timeseries.csv")):
        sub = os.path.join(path, f"replica_{replica}")
        if os.path.exists(os.path.join(sub, "timeseries.csv")):
            return sub, path, replica
    return path, path, replica


def raster_rows(spikes, eta, population, replica, max_neurons, sampling):
    """(times, y) of the raster: at most max_neurons recorded neurons, ranked by eta."""
    sel = [k for k in range(len(spikes.get("t", [])))
           if int(spikes["population"][k]) == population and int(spikes["replica"][k]) == replica]
    neurons = sorted({int(spikes["neuron"][k]) for k in sel})
    if eta:
        key = {int(n): e for r, p, n, e in zip(eta["replica"], eta["population"], eta["neuron"], eta["eta"])
               if int(r) == replica and int(p) == population}
        recorded = sorted(key, key=lambda n: key[n])
        how = "sorted by η (eta.csv)"
    else:
        recorded = neurons  # quantile sampling: index order is eta order
        how = "in index order" + (" = η order (quantiles)" if sampling == "quantiles" else " (no eta.csv: unsorted)")
    if not recorded:
        return [], [], 0, how
    step = max(1, math.ceil(len(recorded) / max_neurons))
    shown = recorded[::step]
    rank = {n: i for i, n in enumerate(shown)}
    ts = [spikes["t"][k] for k in sel if int(spikes["neuron"][k]) in rank]
    ys = [rank[int(spikes["neuron"][k])] for k in sel if int(spikes["neuron"][k]) in rank]
    return ts, ys, len(shown), how


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--out", default=None, help="figure file (default DIR/figure.png)")
    ap.add_argument("--tmin", type=float, default=None, help="in the units of the time axis")
    ap.add_argument("--tmax", type=float, default=None)
    ap.add_argument("--title", default=None)
    ap.add_argument("--replica", type=int, default=0, help="replica to draw when DIR holds replica_<k>/ folders")
    ap.add_argument("--smooth", type=float, default=1.0, help="moving-average window of r, time units (0: none)")
    ap.add_argument("--raster-neurons", type=int, default=100, help="neurons per population in the raster")
    ap.add_argument("--physical", action="store_true", help="r in Hz, V in mV, W in pA (physical-units runs)")
    ap.add_argument("--dpi", type=int, default=150)
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        die(f"{a.dir}: no such folder")
    if a.tmin is not None and a.tmax is not None and a.tmin >= a.tmax:
        die(f"--tmin {a.tmin:g} must be below --tmax {a.tmax:g}")
    if a.replica < 0:
        die(f"--replica {a.replica}: must be >= 0")

    series_dir, run_dir, replica = locate(a.dir, a.replica)
    replica_dirs = sorted(int(m.group(1)) for m in (re.fullmatch(r"replica_(\d+)", n) for n in os.listdir(run_dir))
                          if m and os.path.isdir(os.path.join(run_dir, m.group(0))))
    if replica_dirs and not os.path.exists(os.path.join(run_dir, "run.h5")) and replica not in replica_dirs:
        die(f"replica {replica} does not exist in {run_dir} (valid: {replica_dirs[0]}..{replica_dirs[-1]})")
    h5 = os.path.join(run_dir, "run.h5")
    if os.path.exists(h5):  # run.format = "hdf5": the series, spikes and eta in one file
        net, spikes_h5, eta_h5 = read_h5(h5, replica)
    else:
        net = read_csv(os.path.join(series_dir, "timeseries.csv"))
    mf = read_csv(os.path.join(series_dir, "meanfield.csv"))
    slow = read_csv(os.path.join(series_dir, "meanfield_slow.csv"))
    if not mf and series_dir != run_dir:  # the mean field does not depend on the seed: replica 0 has it
        mf = read_csv(os.path.join(run_dir, "replica_0", "meanfield.csv"))
        slow = read_csv(os.path.join(run_dir, "replica_0", "meanfield_slow.csv"))
    if net and "replica" in net:  # one file with a replica column (several replicas in one timeseries.csv)
        have = sorted({int(x) for x in net["replica"]})
        if replica not in have:
            die(f"replica {replica} does not exist in {series_dir} (valid: {have[0]}..{have[-1]})")
        keep = [k for k, x in enumerate(net["replica"]) if int(x) == replica]
        net = {h: [col[k] for k in keep] for h, col in net.items()}
    elif replica != 0 and series_dir == run_dir and not os.path.exists(h5):
        die(f"replica {replica} does not exist in {run_dir}: it holds one run (valid: 0)")
    if not net and not mf:
        die(f"neither timeseries.csv nor meanfield.csv in {a.dir} (not an izhinet run or mf folder?)")
    if os.path.exists(h5):
        spikes, eta = spikes_h5, eta_h5
    else:
        spikes = read_csv(os.path.join(run_dir, "spikes.csv")) if net else {}
        eta = read_csv(os.path.join(run_dir, "eta.csv")) if net else {}
    summary = read_json(os.path.join(run_dir, "summary.json"))
    equilibria = read_json(os.path.join(series_dir, "equilibria.json"))
    units = read_units(run_dir, summary)
    params = summary["parameters"] if summary else None

    base = net or mf
    P = sum(1 for k in base if re.fullmatch(r"r\d+", k))
    tscale = units["time_unit_ms"] if units else 1.0
    tlabel = "t (ms)" if units else "t (dimensionless time units)"
    physical = a.physical and units is not None
    if a.physical and not units:
        print("plot_run: --physical needs a run configured in physical units; drawing dimensionless values",
              file=sys.stderr)
    vscale = {"r": 1000.0 / tscale if physical else 1.0,  # spikes per ms -> Hz
              "v": units["voltage_unit_mV"] if physical else 1.0,
              "w": units["current_unit_pA"] if physical else 1.0}
    voff = -units["voltage_unit_mV"] if physical else 0.0  # V = (v - 1)|V_R|
    ylabels = {"r": "r (Hz)" if physical else "r", "v": "⟨V⟩ (mV)" if physical else "⟨v⟩",
               "w": "⟨W⟩ (pA)" if physical else "⟨w⟩"}

    def y(var, xs):
        return [vscale[var] * x + (voff if var == "v" else 0.0) for x in xs]

    title = a.title
    pops = params["population"] if params else []
    if title is None:
        if params:
            parts = [f"N = {params['network']['n']}"] if net else ["exact mean field (izhinet mf)"]
            if len(pops) == 1:
                parts.append(f"η̄ = {pops[0]['eta_bar']:g}")
            if net:  # the network's scheme (the mean field alone has none)
                parts.append(f"{params['run']['scheme']} scheme")
            if summary.get("backend"):
                parts.append(f"{summary['backend']} backend")
            if net and (series_dir != run_dir or params["network"].get("replicas", 1) > 1):
                parts.append(f"replica {replica}")
            title = ", ".join(parts)
        elif not net:
            title = "exact mean field (izhinet mf)"
        else:
            title = os.path.basename(os.path.normpath(a.dir))
    sampling = params["network"]["sampling"] if params else "quantiles"

    def column_title(i):
        """population i with its own size and η̄ (when there are several)."""
        if len(pops) < 2 or i >= len(pops):
            return ""
        text = f"population {i}"
        if net:
            text += f": N = {round(params['network']['n'] * pops[i]['fraction'])}"
        return text + f", η̄ = {pops[i]['eta_bar']:g}"

    rows = (["raster"] if net else []) + ["r", "v", "w"]
    fig, axes = plt.subplots(len(rows), P, figsize=(6 * P + 4.5, 2.5 * len(rows) + 0.6), sharex=True, squeeze=False,
                             layout="constrained")
    fig.suptitle(title)
    t_net = [x * tscale for x in net.get("t", [])]
    t_mf = [x * tscale for x in mf.get("t", [])]
    t_slow = [x * tscale for x in slow.get("t", [])]
    all_t = t_net or t_mf
    smooth_label = f"{a.smooth:g} time unit" + ("s" if a.smooth != 1 else "")
    if units:
        smooth_label += f" ({a.smooth * tscale:.3g} ms)"
    tmin = a.tmin if a.tmin is not None else all_t[0]
    tmax = a.tmax if a.tmax is not None else all_t[-1]
    for i in range(P):
        for row, what in enumerate(rows):
            ax = axes[row][i]
            if what == "raster":
                ts, ys, shown, how = raster_rows(spikes, eta, i, replica, a.raster_neurons, sampling)
                if ts:
                    ax.plot([x * tscale for x in ts], ys, "k.", ms=1.5, label=f"spikes of {shown} neurons,\n{how}")
                    ax.set_ylim(-1, shown)
                else:
                    ax.plot([], [], "k.", label="no spikes recorded (run.spike_neurons = 0?)")
                ax.set_ylabel("neuron\n(low η at bottom)")
                # legends outside the axes, on the right: inside they cover spikes and curves
                if i == P - 1:
                    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, markerscale=6)
                if column_title(i):
                    ax.set_title(column_title(i))
                continue
            key = f"{what}{i}"
            if net and key in net:
                if what in ("r", "v") and a.smooth > 0:
                    ax.plot(t_net, y(what, net[key]), color="tab:blue", lw=0.4, alpha=0.25)
                    ax.plot(t_net, y(what, moving_average(net["t"], net[key], a.smooth)), color="tab:blue", lw=1.0,
                            label=f"network, smoothed over\n{smooth_label} (light: as recorded)")
                else:
                    ax.plot(t_net, y(what, net[key]), color="tab:blue", lw=0.8, label="network")
            if mf and key in mf:
                ax.plot(t_mf, y(what, mf[key]), color="tab:red", lw=1.2, ls="--" if net else "-", label="exact mean field",
                        zorder=3)
            if slow and key in slow:
                ax.plot(t_slow, y(what, slow[key]), color="tab:green", lw=1.0, ls=":", label="slow-adaptation MF",
                        zorder=3)
            if equilibria and not net:
                for k, e in enumerate(equilibria.get("equilibria", [])):
                    val = e["populations"][i][what]
                    ax.axhline(y(what, [val])[0], color="k" if e["stable"] else "0.5", lw=0.7,
                               ls="-" if e["stable"] else "-.",
                               label=("stable" if e["stable"] else "unstable") + " equilibrium" if k < 4 else None)
            ax.set_ylabel(ylabels[what])
            if row == 0 and not net and column_title(i):
                ax.set_title(column_title(i))
            if i == P - 1:  # one legend per row, right of the last column
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        axes[-1][i].set_xlabel(tlabel)
        axes[-1][i].set_xlim(tmin, tmax)
    out = a.out or os.path.join(a.dir, "figure.png")
    fig.savefig(out, dpi=a.dpi)
    print(f"plot_run: wrote {out}")


if __name__ == "__main__":
    main()
