#!/usr/bin/env python3
"""Draws a bifurcation diagram written by `izhinet bif`.

    python3 tools/plot_bifurcation.py DIR [--var w0] [--sweep SWEEPDIR] [--out fig.png] [--title T]

One parameter (branches.csv has one key column): the variable --var (default
r0) against KEY. Equilibria: stable solid, unstable dashed. Periodic orbits:
their min and max envelopes (stable solid, unstable dashed). Special points of
special_points.json labelled (H, LP, BP, LPC, PD, NS, UZ).

Two parameters (branches.csv has two key columns): the H-, LP- and LPC-curves
in the (KEY, KEY2) plane, with their codimension-two points (BT, GH, ZH, CP).

--sweep SWEEPDIR draws network results from SWEEPDIR/sweep.csv (columns
KEY,direction,regime,period, then r0_min,r0_max,r0_mean,...): an equilibrium
as a filled dot at its mean, an oscillation as two filled dots at its min and
max; an inconclusive network (regime "inconclusive": neither settled nor
periodic in the analysed window) as a hollow grey marker at its mean, and a
diverged one as a grey cross on the lower edge (it has no values).

Axes are labelled in words (eta_bar as η̄, w0 as ⟨w⟩, ...; --xlabel/--ylabel
replace them). A missing folder or file ends with one error line, status 2.
"""
import argparse
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FIXED = ["branch", "kind"]
plt.rcParams.update({"font.size": 11, "axes.labelsize": 12, "axes.titlesize": 12, "legend.fontsize": 10,
                     "xtick.labelsize": 11, "ytick.labelsize": 11})
SYMBOLS = {"eta_bar": "η̄", "delta": "Δ", "alpha": "α", "a": "a", "b": "b", "w_jump": "w_jump", "I_ext": "I_ext",
           "fraction": "fraction", "v_peak": "v_peak", "v_reset": "v_reset"}
VARS = {"r": "r", "v": "⟨v⟩", "w": "⟨w⟩", "s": "s"}


def die(msg):
    print(f"plot_bifurcation: {msg}", file=sys.stderr)
    sys.exit(2)


def key_label(key, npop):
    """population.0.eta_bar -> η̄ (population 0 when there are several); population.*.x -> x (all populations)."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "population":
        name = SYMBOLS.get(parts[2], parts[2])
        if parts[1] == "*":
            return name + (" (all populations)" if npop > 1 else "")
        return name + (f" (population {parts[1]})" if npop > 1 else "")
    return key


def var_label(var, npop):
    """w0 -> ⟨w⟩ (⟨w⟩ of population 0 when there are several)."""
    name, pop = var[:1], var[1:]
    if name not in VARS or not pop.isdigit():
        return var
    return VARS[name] + (f", population {pop}" if npop > 1 else "")


def place_labels(ax, items, fontsize=10):
    """Annotates (x, y, text) points, moving a label off any already placed one (in axis fractions)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    offsets = [(5, 5), (5, -15), (-22, 5), (-22, -15), (5, 17), (-22, 17), (5, -27), (-22, -27)]
    placed = []
    for x, y, text in sorted(items, key=lambda it: (it[0], it[1])):
        fx, fy = (x - x0) / ((x1 - x0) or 1), (y - y0) / ((y1 - y0) or 1)
        w, h = 0.012 * len(text) + 0.02, 0.05  # label box in axis fractions (rough)
        for dx, dy in offsets:
            lx, ly = fx + dx / 500, fy + dy / 330
            if all(abs(lx - px) > w or abs(ly - py) > h for px, py in placed):
                break
        placed.append((lx, ly))
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize=fontsize,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.7))
CURVE_COLOURS = {"H-curve": "tab:red", "LP-curve": "tab:blue", "LPC-curve": "tab:green"}


def read_rows(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, [dict(zip(header, row)) for row in r]


def segments(rows, key):
    """Consecutive rows of one branch with the same stability, as (stable, [rows])."""
    out, cur, stab, name = [], [], None, None
    for row in rows:
        s = row["stable"]
        if row["branch"] != name or (s != stab and s != "" and stab not in (None, "")):
            if cur:
                out.append((stab, cur))
                cur = [cur[-1]] if row["branch"] == name else []
            name = row["branch"]
        stab = s if s != "" else stab
        cur.append(row)
    if cur:
        out.append((stab, cur))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--var", default="r0", help="state variable: r0, v0, w0, s0, r1, ... (default r0)")
    ap.add_argument("--sweep", help="folder with a sweep.csv of network runs to draw on the diagram")
    ap.add_argument("--out", help="image file (default DIR/bifurcation_<var>.png)")
    ap.add_argument("--title", default="")
    ap.add_argument("--xlabel", help="x-axis label (default: the parameter in words, e.g. η̄)")
    ap.add_argument("--ylabel", help="y-axis label (default: the variable in words, e.g. ⟨w⟩)")
    ap.add_argument("--dpi", type=int, default=160)
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        die(f"{a.dir}: no such folder (make it with izhinet bif --out {a.dir})")
    path = os.path.join(a.dir, "branches.csv")
    if not os.path.exists(path):
        die(f"{path} not found (run izhinet bif --out {a.dir} first)")
    sweep_csv = None
    if a.sweep:
        if not os.path.isdir(a.sweep):
            die(f"--sweep {a.sweep}: no such folder (make it with izhinet sweep --out {a.sweep})")
        sweep_csv = os.path.join(a.sweep, "sweep.csv")
        if not os.path.exists(sweep_csv):
            die(f"--sweep {a.sweep}: no sweep.csv there (make it with izhinet sweep --out {a.sweep})")
    header, rows = read_rows(path)
    keys = header[2:header.index("stable")]
    npop = sum(1 for h in header if h.startswith("r") and h.endswith("_min") and h[1:-4].isdigit())
    if a.var + "_min" not in header:
        valid = sorted({h[:-4] for h in header if h.endswith("_min")})
        die(f"--var {a.var} is not in {path} (valid: {', '.join(valid)})")
    sp_path = os.path.join(a.dir, "special_points.json")
    if not os.path.exists(sp_path):
        die(f"{sp_path} not found (an interrupted izhinet bif? rerun it)")
    with open(sp_path) as f:
        special = json.load(f)["special_points"]
    fig, ax = plt.subplots(figsize=(11, 5.2))
    key = keys[0]
    labels = []
    if len(keys) == 1 or not any(r["kind"].endswith("-curve") for r in rows):
        for kind, colour in (("EP", "black"), ("PO", "tab:blue")):
            by_branch = {}
            for r in rows:
                if r["kind"] == kind:
                    by_branch.setdefault(r["branch"], []).append(r)
            for name, br in by_branch.items():
                for stab, seg in segments(br, key):
                    x = [float(r[key]) for r in seg]
                    style = "-" if stab == "1" else "--"
                    if kind == "EP":
                        ax.plot(x, [float(r[a.var + "_mean"]) for r in seg], style, color=colour, lw=1.4)
                    else:
                        for edge in ("_min", "_max"):
                            ax.plot(x, [float(r[a.var + edge]) for r in seg], style, color=colour, lw=1.1)
        for s in special:
            if key not in s:
                continue
            y = s["state"].get(a.var)
            if y is None:
                continue
            ax.plot([s[key]], [y], "o", ms=5, color="tab:red" if s["type"] in ("H", "LP", "BP") else "tab:green")
            labels.append((s[key], y, s["type"]))
        ax.set_ylabel(a.ylabel or var_label(a.var, npop))
        # legend: one proxy per kind of line and point drawn
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], color="black", lw=1.4, label="equilibrium, stable"),
                   Line2D([], [], color="black", lw=1.4, ls="--", label="equilibrium, unstable")]
        if any(r["kind"] == "PO" for r in rows):
            handles += [Line2D([], [], color="tab:blue", lw=1.1, label="orbit min/max, stable"),
                        Line2D([], [], color="tab:blue", lw=1.1, ls="--", label="orbit min/max, unstable")]
        if any(s["type"] in ("H", "LP", "BP") for s in special):
            handles.append(Line2D([], [], color="tab:red", marker="o", ls="", ms=4, label="H / LP / BP"))
        if any(s["type"] not in ("H", "LP", "BP") for s in special):
            handles.append(Line2D([], [], color="tab:green", marker="o", ls="", ms=4, label="LPC / PD / NS / UZ"))
        if a.sweep:
            sw_header, sw = read_rows(sweep_csv)
            if key not in sw_header or a.var + "_mean" not in sw_header:
                die(f"{sweep_csv} has no column {key if key not in sw_header else a.var + '_mean'} "
                    f"(a sweep of another parameter or model?)")
            unclear = {"inconclusive": 0, "diverged": 0}

            def num(x):
                try:
                    return float(x)
                except ValueError:
                    return float("nan")

            for r in sw:
                x = float(r[key])
                mark = "^" if r.get("direction") == "up" else "v" if r.get("direction") == "down" else "o"
                regime = r.get("regime")
                if regime == "oscillation":
                    ax.plot([x, x], [num(r[a.var + "_min"]), num(r[a.var + "_max"])], mark, color="tab:orange",
                            ms=6, zorder=4)
                elif regime == "equilibrium":
                    ax.plot([x], [num(r[a.var + "_mean"])], mark, color="tab:orange", ms=6, zorder=4)
                elif regime == "diverged" or math.isnan(num(r[a.var + "_mean"])):
                    unclear["diverged"] += 1
                    ax.plot([x], [0.03], "x", color="0.4", ms=7, mew=1.5, transform=ax.get_xaxis_transform(),
                            zorder=4)
                else:  # inconclusive: its mean, drawn so that it is not taken for an equilibrium
                    unclear["inconclusive"] += 1
                    ax.plot([x], [num(r[a.var + "_mean"])], mark, mfc="none", mec="0.4", mew=1.3, ms=7, zorder=4)
            n = ""
            cfg = os.path.join(a.sweep, "sweep.txt")
            if os.path.exists(cfg):
                with open(cfg) as f:
                    for line in f:
                        if line.strip().startswith("n =") and not n:
                            n = " (N = " + line.split("=", 1)[1].strip() + ")"
            for d, mark in (("none", "o"), ("up", "^"), ("down", "v")):
                if any(r.get("direction") == d for r in sw):
                    what = {"none": "", "up": ", swept up", "down": ", swept down"}[d]
                    handles.append(Line2D([], [], color="tab:orange", marker=mark, ls="", ms=6,
                                          label=f"network{n}{what}: equilibrium, or min/max"))
            if unclear["inconclusive"] or unclear["diverged"]:
                print(f"plot_bifurcation: networks not at an equilibrium or orbit: {unclear['inconclusive']} "
                      f"inconclusive (hollow grey), {unclear['diverged']} diverged (grey cross)")
            if unclear["inconclusive"]:
                handles.append(Line2D([], [], marker="o", mfc="none", mec="0.4", mew=1.3, ls="", ms=7,
                                      label="network: inconclusive (its mean)"))
            if unclear["diverged"]:
                handles.append(Line2D([], [], marker="x", color="0.4", mew=1.5, ls="", ms=7,
                                      label="network: diverged (no values)"))
        place_labels(ax, labels)
        # outside the axes, on the right: inside it covers branches or network points
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        if not a.title:
            a.title = "Mean field: bifurcation diagram in " + key_label(key, npop) + (" with networks" if a.sweep else "")
    else:
        key2 = keys[1]
        done = set()
        for r_kind, colour in CURVE_COLOURS.items():
            by_branch = {}
            for r in rows:
                if r["kind"] == r_kind:
                    by_branch.setdefault(r["branch"], []).append(r)
            for name, br in by_branch.items():
                ax.plot([float(r[key]) for r in br], [float(r[key2]) for r in br], "-", color=colour, lw=1.3,
                        label=r_kind if r_kind not in done else None)
                done.add(r_kind)
        for s in special:
            if key in s and key2 in s and s["type"] in ("BT", "GH", "ZH", "CP"):
                ax.plot([s[key]], [s[key2]], "ko", ms=5)
                labels.append((s[key], s[key2], s["type"]))
        place_labels(ax, labels)
        ax.set_ylabel(a.ylabel or key_label(key2, npop))
        ax.legend()
    ax.set_xlabel(a.xlabel or key_label(key, npop))
    if a.title:
        ax.set_title(a.title)
    fig.tight_layout()
    out = a.out or os.path.join(a.dir, f"bifurcation_{a.var}.png")
    fig.savefig(out, dpi=a.dpi)
    print(f"plot_bifurcation: wrote {out}")


if __name__ == "__main__":
    main()
