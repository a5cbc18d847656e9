#!/usr/bin/env python3
"""Exact mean field (Chen & Campbell 2022), one population, paper parameters,
eta_bar = 0.12, T = 800: scipy's LSODA (rtol 1e-8, atol 1e-10, NumPy right-hand
side, t_eval = the network's record times 0.01 k) against izhinet's DOPRI5
(benchmarks/bench_meanfield.cpp), both timed in this one invocation.

Two modes, like for like: "final" (no t_eval; the C++ side delivers the state
at T) and "record" (t_eval / dense output at the 80001 record times).
Best of several runs on each side.

Usage: tools/bench_meanfield.py [build/benchmarks/bench_meanfield] [--md results.md] [--repeats 3]
Prints both times per trajectory and the speed ratios (target >= 250x); with
--md appends markdown table rows.
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp

# Paper one-population parameters (docs/model.md section 2), dimensionless.
ALPHA, G, E_R, A, B, W_JUMP = 0.6215, 1.2308, 1.0, 0.0077, -0.0062, 0.0189
TAU_S, S_JUMP, DELTA, ETA_BAR, I_EXT = 2.6, 1.2308, 0.02, 0.12, 0.0
T_END = 800.0


def rhs(t, y):
    r, v, w, s = y
    gs = G * s
    return np.array([
        DELTA / np.pi + 2.0 * r * v - (ALPHA + gs) * r,
        v * v - ALPHA * v - w + ETA_BAR + I_EXT + gs * (E_R - v) - np.pi ** 2 * r * r,
        A * (B * v - w) + W_JUMP * r,
        -s / TAU_S + S_JUMP * r,
    ])


def run_scipy(repeats, t_eval):
    best, sol = None, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        sol = solve_ivp(rhs, (0.0, T_END), np.zeros(4), method="LSODA", rtol=1e-8, atol=1e-10, t_eval=t_eval)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    if not sol.success:
        sys.exit("scipy failed: " + sol.message)
    return best, sol.y[0, -1], sol.nfev


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", default="build/benchmarks/bench_meanfield")
    ap.add_argument("--md", help="append markdown rows to this file")
    ap.add_argument("--repeats", type=int, default=3, help="scipy repetitions (best is kept)")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: build it with cmake -S . -B build -DIZHINET_BENCHMARKS=ON; cmake --build build --target bench_meanfield")

    # both solvers timed in this one invocation; best of several runs on each side
    py = {"final": run_scipy(args.repeats, None), "record": run_scipy(args.repeats, 0.01 * np.arange(80001))}
    out = subprocess.run([args.binary], capture_output=True, text=True, check=True).stdout
    cpp = {}
    for m in re.finditer(r"mode=(\w+) seconds_per_trajectory=(\S+) .*rhs_evals=(\d+) r_end=(\S+)", out):
        cpp[m.group(1)] = (float(m.group(2)), int(m.group(3)), float(m.group(4)))
    if set(cpp) != {"final", "record"}:
        sys.exit("cannot parse benchmark output: " + out)
    labels = {"final": "final state only", "record": "80001 outputs (t_eval / dense output)"}
    rows = []
    for mode in ("final", "record"):
        t_py, r_py, nfev = py[mode]
        t_cpp, evals, r_cpp = cpp[mode]
        ratio = t_py / t_cpp
        rows.append((mode, t_py, t_cpp, ratio))
        print(f"[{labels[mode]}]")
        print(f"  scipy LSODA : {t_py:.4g} s per trajectory ({nfev} rhs evaluations), r(T) = {r_py:.8g}")
        print(f"  izhinet     : {t_cpp:.4g} s per trajectory ({evals} rhs evaluations), r(T) = {r_cpp:.8g}")
        print(f"  speed ratio : {ratio:.0f}x (target >= 250x) {'OK' if ratio >= 250 else 'BELOW TARGET'}")
        if abs(r_py - r_cpp) > 1e-4 * max(1.0, abs(r_cpp)):
            print(f"  warning: r(T) differs by {abs(r_py - r_cpp):.3g} between the two solvers")
    if args.md:
        new = not os.path.exists(args.md)
        with open(args.md, "a") as f:
            if new:
                f.write("| date | host | mode | scipy LSODA (s) | izhinet DOPRI5 (s) | ratio |\n|---|---|---|---|---|---|\n")
            for mode, t_py, t_cpp, ratio in rows:
                f.write(f"| {datetime.date.today()} | {platform.node()} | {labels[mode]} | {t_py:.4g} | {t_cpp:.4g} | {ratio:.0f}x |\n")


if __name__ == "__main__":
    main()
