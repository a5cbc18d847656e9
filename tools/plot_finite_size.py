#!/usr/bin/env python3
"""Deviation from the mean field against N, log-log, per sampling, with the fits.

    python3 tools/plot_finite_size.py STUDY_DIR [--metric sdiff|dmean|nrms] [--vars r,w] [--out fig.png] [--title T]

sdiff (default): the signed late-mean difference (net - mf)/mf against N
(log x), with the signed fit d + c N^-gamma and its plateau d: the form that
shows a deviation which stops shrinking. dmean, nrms: log-log, with the
power-law (or power + plateau) fit.

Reads STUDY_DIR/finite_size.csv (one point per run) and finite_size.json (the
fitted D = c N^-gamma [+ d] per sampling and metric, see include/izhinet/fit.hpp
and docs/finite_size.md).

A fit is drawn as a result only when it is determined: enough distinct network
sizes for its parameters (power law 3, with plateau or signed 4) and an
exponent whose standard error is at most half of it. Otherwise the points are
drawn alone, the legend says why, and a warning goes to stderr.
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


def judge(fit, sizes, needed):
    """(True, "") when the fit can be shown as a result, else (False, why)."""
    if not fit or not fit.get("ok"):
        return False, "no fit"
    if sizes < needed:
        return False, f"{sizes} sizes, {needed} needed"
    g, se = fit.get("gamma"), fit.get("gamma_stderr")
    if se is None or not math.isfinite(se):
        return False, "no standard error of gamma"
    if se > 0.5 * abs(g):
        return False, f"gamma = {g:.2f} ± {se:.2f} not determined"
    return True, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--metric", default="sdiff", choices=["sdiff", "dmean", "nrms"])
    ap.add_argument("--vars", default="r,w")
    ap.add_argument("--pop", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--title", default=None, help="figure title (default: the folder's name)")
    a = ap.parse_args()
    path = os.path.join(a.dir, "finite_size.csv")
    if not os.path.exists(path):
        sys.exit(f"plot_finite_size: no finite_size.csv in {a.dir}")
    with open(path) as f:
        rows = [r for r in csv.DictReader(f) if r.get("status") == "completed"]
    fits = {}
    jpath = os.path.join(a.dir, "finite_size.json")
    if os.path.exists(jpath):
        with open(jpath) as f:
            for fit in json.load(f)["fits"]:
                fits[(fit["sampling"], fit["metric"])] = fit
    variables = a.vars.split(",")
    fig, axes = plt.subplots(1, len(variables), figsize=(6 * len(variables), 4.5), squeeze=False)
    colors = {"random": "tab:orange", "quantiles": "tab:blue"}
    for ax, var in zip(axes[0], variables):
        key = f"{a.metric}_{var}{a.pop}"
        for sampling in ("random", "quantiles"):
            if key not in (rows[0] if rows else {}):
                continue
            pts = [(float(r["n"]), float(r[key])) for r in rows
                   if r["sampling"] == sampling and r[key] not in ("nan", "") and
                   (a.metric == "sdiff" or float(r[key]) > 0)]
            if not pts:
                continue
            sizes = len({p[0] for p in pts})
            if a.metric == "sdiff":
                fit = fits.get((sampling, f"dmean_{var}{a.pop}"), {}).get("signed_fit")
                ns = sorted({p[0] for p in pts})
                shown, why = judge(fit, sizes, 4)
                if not shown:
                    print(f"plot_finite_size: warning: {sampling}, {var}: signed fit not drawn ({why})", file=sys.stderr)
                if shown:
                    xs = [ns[0] * (ns[-1] / ns[0]) ** (k / 50) for k in range(51)]
                    err = fit["gamma_stderr"]
                    lab = (f"{sampling}: {fit['plateau']:+.3f} {fit['c']:+.2g} N^-({fit['gamma']:.2f}"
                           + (f" ± {err:.2f})" if err is not None and math.isfinite(err) else ")"))
                    ax.plot(xs, [fit["plateau"] + fit["c"] * x ** (-fit["gamma"]) for x in xs], "-",
                            color=colors[sampling], label=lab)
                    ax.axhline(fit["plateau"], color=colors[sampling], ls=":", lw=0.8)
                ax.set_xscale("log")
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", color=colors[sampling], alpha=0.6,
                        label=f"{sampling} (runs)" + ("" if shown else f"; fit not shown: {why}"))
                continue
            fit = fits.get((sampling, key))
            shown, why = judge(fit, sizes, 3 if fit and fit.get("model") == "power" else 4)
            if not shown:
                print(f"plot_finite_size: warning: {sampling}, {key}: fit not drawn ({why})", file=sys.stderr)
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o", color=colors[sampling], alpha=0.6,
                      label=f"{sampling} (runs)" + ("" if shown else f"; fit not shown: {why}"))
            if shown:
                ns = sorted({p[0] for p in pts})
                xs = [ns[0] * (ns[-1] / ns[0]) ** (k / 50) for k in range(51)]
                ys = [fit["c"] * x ** (-fit["gamma"]) + fit["plateau"] for x in xs]
                err = fit["gamma_stderr"]
                lab = f"fit: gamma = {fit['gamma']:.2f}" + (f" ± {err:.2f}" if err is not None and math.isfinite(err) else "")
                if fit["model"] != "power":
                    lab += f", plateau {fit['plateau']:.2g}"
                ax.loglog(xs, ys, "-", color=colors[sampling], label=lab)
        ax.set_xlabel("N")
        ax.set_ylabel({"dmean": f"|late mean - MF| / MF of {var}", "nrms": f"NRMS of {var} vs MF",
                       "sdiff": f"(late mean - MF) / MF of {var}"}[a.metric])
        if a.metric == "sdiff":
            ax.axhline(0, color="k", lw=0.5)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    name = a.title or os.path.basename(os.path.normpath(a.dir))
    fig.suptitle(f"convergence to the exact mean field: {name}", fontsize=10)
    fig.tight_layout()
    out = a.out or os.path.join(a.dir, f"finite_size_{a.metric}.png")
    fig.savefig(out, dpi=110)
    print(f"plot_finite_size: wrote {out}")


if __name__ == "__main__":
    main()
