#!/usr/bin/env python3
"""Brian2 (cpp_standalone, one thread) on the network izhinet's `paper` scheme runs.

Install Brian2 yourself first; this script installs nothing:
    python3 -m venv /path/venv && /path/venv/bin/pip install brian2 "numpy<2.3"
(Brian 2.9.0 fails to import with numpy >= 2.4: numpy removed ndarray.ptp.)
A C++ compiler is needed (cpp_standalone compiles the network).

The network (docs/model.md sections 2 and 4, dimensionless; Brian2's time unit
`ms` stands for one dimensionless time unit, dt = 1e-3):

  G: N neurons   dv/dt = v (v - alpha - g s) - w + eta + g s e_r   (unless refractory)
                 dw/dt = a (b v - w)                               (unless refractory)
                 eta constant (Lorentzian quantiles, as izhinet's `quantiles` sampling)
                 s = linked variable: the single neuron of S
                 forward Euler
  threshold v >= v_peak, reset v = v_reset - (v - v_peak), w += w_jump
  S: 1 neuron    ds/dt = -s / tau_s (Euler), then s kept in [0, 1] (run_regularly at `end`)
  Synapses(G -> S), one synapse per neuron of G: on_pre s_post += s_jump / N

The paper scheme spikes a neuron whose v >= v_peak at the *start* of a step and
gives it no Euler step in that step. Brian2's default order is the opposite
(state update, then threshold and reset), so the threshold and reset of G are
moved to the `start` slot, and `refractory = dt/2` with `(unless refractory)`
keeps the just-reset neuron out of the Euler step of the same step (t - lastspike
= 0 < dt/2) while every other neuron steps (t - lastspike >= dt). G updates
before S in the `groups` slot, so neurons read s of the previous step; the
spikes of the step reach S at `synapses`, after its decay. That is exactly the
reference step (up to the order of floating additions of the jumps).

Timing: Brian2 reports the C++ run time of `run()` (device._last_run_time,
excluding code generation and compilation); neuron-steps/s = N * steps / that.

Usage:
  bench_brian2.py --n 100000 --t 2            # throughput
  bench_brian2.py --check --izhinet build/izhinet --config configs/paper_tonic.toml
                                              # late-time rate vs izhinet (same model)
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time


def lorentz_quantiles(n, eta_bar, delta):
    import numpy as np
    j = np.arange(1, n + 1, dtype=np.float64)
    return eta_bar + delta * np.tan(0.5 * np.pi * (2 * j - n - 1) / (n + 1))


def run_brian2(n, t_end, eta_bar, workdir, record_rate=False, dt=1e-3, reps=1):
    """Builds and runs; then reruns the compiled binary reps - 1 times.
    Returns (run seconds of every run, build+first-run wall seconds, rate trace or None)."""
    import numpy as np
    import brian2 as b2

    b2.device.reinit()
    b2.device.activate()
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # one thread, no OpenMP
    # Brian2's default C++ flags are kept (-O3 -ffast-math -fno-finite-math-only -march=native).
    b2.defaultclock.dt = dt * b2.ms

    # Paper one-population set (docs/model.md section 2), dimensionless.
    p = dict(alpha=0.6215, g=1.2308, e_r=1.0, a=0.0077, b=-0.0062, w_jump=0.0189, tau_s=2.6 * b2.ms,
             s_jump=1.2308, v_peak=200.0, v_reset=-200.0, n_neurons=float(n))
    eqs = """
    dv/dt = (v * (v - alpha - g * s) - w + eta + g * s * e_r) / ms : 1 (unless refractory)
    dw/dt = a * (b * v - w) / ms : 1 (unless refractory)
    eta : 1 (constant)
    s : 1 (linked)
    """
    G = b2.NeuronGroup(n, eqs, threshold="v >= v_peak", reset="v = v_reset - (v - v_peak); w += w_jump",
                       refractory=0.5 * dt * b2.ms, method="euler", namespace=p, name="G")
    S = b2.NeuronGroup(1, "ds/dt = -s / tau_s : 1", method="euler", namespace=p, name="S")
    S.run_regularly("s = clip(s, 0, 1)", when="end", name="S_clip")
    G.s = b2.linked_var(S, "s", index=np.zeros(n, dtype=int))
    syn = b2.Synapses(G, S, on_pre="s_post += s_jump / n_neurons", namespace=p, name="GS")
    syn.connect(j="0")
    G.thresholder["spike"].when = "start"
    G.thresholder["spike"].order = 0
    G.resetter["spike"].when = "start"
    G.resetter["spike"].order = 1
    G.order = 0
    S.order = 1
    G.v = 0.0
    G.w = 0.0
    G.eta = lorentz_quantiles(n, eta_bar, 0.02)
    objs = [G, S, syn]
    mon = None
    if record_rate:
        mon = b2.PopulationRateMonitor(G, name="rate")
        objs.append(mon)
    net = b2.Network(*objs)
    net.run(t_end * b2.ms)
    t0 = time.perf_counter()
    b2.device.build(directory=workdir, compile=True, run=True, debug=False)
    wall = time.perf_counter() - t0
    run_s = [float(b2.device._last_run_time)]
    for _ in range(reps - 1):
        b2.device.run(directory=workdir, with_output=False)
        run_s.append(float(b2.device._last_run_time))
    rate = None
    if mon is not None:
        rate = (np.asarray(mon.t / b2.ms), np.asarray(mon.rate / b2.Hz) * 1e-3)  # spikes per neuron per time unit
    return run_s, wall, rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100000])
    ap.add_argument("--t", type=float, default=2.0, help="dimensionless time to simulate (steps = t / 1e-3)")
    ap.add_argument("--eta-bar", type=float, default=0.12)
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the run (one compilation)")
    ap.add_argument("--json", help="append results as JSON lines to this file")
    ap.add_argument("--check", action="store_true", help="compare the late-time rate with izhinet")
    ap.add_argument("--izhinet", default="build/izhinet")
    ap.add_argument("--config", default="configs/paper_tonic.toml")
    ap.add_argument("--check-n", type=int, default=10000)
    ap.add_argument("--check-t", type=float, default=100.0)
    ap.add_argument("--check-eta-bar", type=float, default=0.25)
    args = ap.parse_args()

    results = []
    if not args.check:
        for n in args.n:
            workdir = tempfile.mkdtemp(prefix=f"brian2_n{n}_")
            try:
                steps = int(round(args.t / 1e-3))
                runs, wall, _ = run_brian2(n, args.t, args.eta_bar, workdir, reps=args.reps)
                for rep, run_s in enumerate(runs):
                    print(f"brian2 N={n} steps={steps} rep={rep}: run {run_s:.3f} s, "
                          f"{n * steps / run_s:.4g} neuron-steps/s", flush=True)
                print(f"brian2 N={n}: code generation + compilation + first run {wall:.1f} s", flush=True)
                best = min(runs)
                r = dict(n=n, steps=steps, run_seconds=best, neuron_steps_per_second=n * steps / best,
                         threads=1, brian2=__import__("brian2").__version__)
                results.append(r)
                print(json.dumps(r), flush=True)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    else:
        import numpy as np
        n, T, eb = args.check_n, args.check_t, args.check_eta_bar
        workdir = tempfile.mkdtemp(prefix="brian2_check_")
        out = tempfile.mkdtemp(prefix="izhinet_check_")
        try:
            _, wall, (t, r) = run_brian2(n, T, eb, workdir, record_rate=True)
            late = t >= T / 2
            r_b = float(np.mean(r[late]))
            cmd = [args.izhinet, "run", "-c", args.config, "--set", f"network.n={n}", "--set",
                   f"population.0.eta_bar={eb}", "--set", f"run.t_end={T}", "--set", "run.spike_neurons=0",
                   "--threads", "1", "--no-meanfield", "-q", "--out", out]
            subprocess.run(cmd, check=True)
            data = np.genfromtxt(os.path.join(out, "timeseries.csv"), delimiter=",", names=True)
            late_i = data["t"] > T / 2
            r_i = float(np.mean(data["r0"][late_i]))
            rel = abs(r_b - r_i) / max(abs(r_i), 1e-300)
            ok = rel < 0.02
            res = dict(check=True, n=n, t_end=T, eta_bar=eb, rate_brian2=r_b, rate_izhinet=r_i, rel_diff=rel,
                       ok=ok)
            results.append(res)
            print(f"late-time rate (t > {T / 2:g}), N={n}, eta_bar={eb}: brian2 {r_b:.6g}, izhinet {r_i:.6g}, "
                  f"relative difference {rel:.2e} -> {'OK' if ok else 'MISMATCH'}")
            print(json.dumps(res), flush=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
    if args.json:
        with open(args.json, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    sys.exit(main())
