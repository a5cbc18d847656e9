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
as a dot at its mean, an oscillation as two dots at its min and max.
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FIXED = ["branch", "kind"]
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
    a = ap.parse_args()
    path = os.path.join(a.dir, "branches.csv")
    if not os.path.exists(path):
        sys.exit(f"plot_bifurcation: {path} not found (run izhinet bif --out {a.dir} first)")
    header, rows = read_rows(path)
    keys = header[2:header.index("stable")]
    if a.var + "_min" not in header:
        valid = sorted({h[:-4] for h in header if h.endswith("_min")})
        sys.exit(f"plot_bifurcation: --var {a.var} is not in {path} (valid: {', '.join(valid)})")
    with open(os.path.join(a.dir, "special_points.json")) as f:
        special = json.load(f)["special_points"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    key = keys[0]
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
            ax.plot([s[key]], [y], "o", ms=4, color="tab:red" if s["type"] in ("H", "LP", "BP") else "tab:green")
            ax.annotate(s["type"], (s[key], y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_ylabel(a.var)
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
            _, sw = read_rows(os.path.join(a.sweep, "sweep.csv"))
            for r in sw:
                x = float(r[key])
                mark = "^" if r.get("direction") == "up" else "v" if r.get("direction") == "down" else "o"
                if r.get("regime") == "oscillation":
                    ax.plot([x, x], [float(r[a.var + "_min"]), float(r[a.var + "_max"])], mark, color="tab:orange",
                            ms=4)
                else:
                    ax.plot([x], [float(r[a.var + "_mean"])], mark, color="tab:orange", ms=4)
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
                    handles.append(Line2D([], [], color="tab:orange", marker=mark, ls="", ms=4,
                                          label=f"network{n}{what}: equilibrium, or min/max"))
        ax.legend(handles=handles, fontsize=7, loc="best")
        if not a.title:
            a.title = "Mean field: bifurcation diagram in " + key + (" with networks" if a.sweep else "")
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
                ax.plot([s[key]], [s[key2]], "ko", ms=4)
                ax.annotate(s["type"], (s[key], s[key2]), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_ylabel(key2)
        ax.legend(fontsize=8)
    ax.set_xlabel(key)
    if a.title:
        ax.set_title(a.title)
    fig.tight_layout()
    out = a.out or os.path.join(a.dir, f"bifurcation_{a.var}.png")
    fig.savefig(out, dpi=130)
    print(f"plot_bifurcation: wrote {out}")


if __name__ == "__main__":
    main()
