#!/usr/bin/env python3
"""Peer for `izhinet bif` (BENCHMARKS.md): the Fig. 1a diagram by a scipy-based continuation.

    /usr/bin/python3 benchmarks/bif_scipy.py [--izhinet build/izhinet] [--config configs/fig1a.toml]

Equilibria: pseudo-arclength continuation with Newton (scipy.linalg.solve, the
analytic Jacobian), eta_bar in [0, 0.3], Hopf points by bisection of the
critical real part between steps. Periodic orbits: scipy.integrate.solve_bvp
(collocation, adaptive mesh, period as an unknown parameter, phase fixed by
v(0) = the orbit's mean v), natural continuation in eta_bar from the bursting
orbit at 0.12 in both directions until the solver fails (it cannot pass a fold
of cycles). Then the same diagram by izhinet bif in the same run; both wall
times printed on one line each.
"""
import argparse
import subprocess
import tempfile
import time

import numpy as np
from scipy.integrate import solve_bvp, solve_ivp
from scipy.linalg import solve

P = dict(delta=0.02, alpha=0.6215, a=0.0077, b=-0.0062, wj=0.0189, g=1.2308, er=1.0, taus=2.6, sj=1.2308)


def f(y, eta):
    r, v, w, s = y
    G = P["g"] * s
    return np.array([P["delta"] / np.pi + r * (2 * v - P["alpha"] - G),
                     v * (v - P["alpha"] - G) - w + eta + G * P["er"] - np.pi ** 2 * r * r,
                     P["a"] * (P["b"] * v - w) + P["wj"] * r,
                     -s / P["taus"] + P["sj"] * r])


def jac(y):
    r, v, w, s = y
    G = P["g"] * s
    return np.array([[2 * v - P["alpha"] - G, 2 * r, 0, -P["g"] * r],
                     [-2 * np.pi ** 2 * r, 2 * v - P["alpha"] - G, -1, P["g"] * (P["er"] - v)],
                     [P["wj"], P["a"] * P["b"], -P["a"], 0],
                     [P["sj"], 0, 0, -1 / P["taus"]]])


def equilibria():
    # start: the equilibrium at eta = 0 by Newton from the low-rate guess
    y = np.array([0.01, -0.5, 0.0, 0.03])
    for _ in range(50):
        y = y - solve(jac(y), f(y, 0.0))
    X = np.append(y, 0.0)
    t = np.zeros(5)
    t[4] = 1.0
    ds, pts, hopf = 1e-3, [X.copy()], []

    def crit(X):
        ev = np.linalg.eigvals(jac(X[:4]))
        return max(ev[np.abs(ev.imag) > 1e-12].real, default=np.nan)  # nan: no complex pair

    while 0 <= X[4] <= 0.3 and len(pts) < 5000:
        Xn = X + ds * t
        for _ in range(10):
            A = np.vstack([np.hstack([jac(Xn[:4]), np.array([[0], [1], [0], [0]])]), t])
            R = np.append(f(Xn[:4], Xn[4]), t @ (Xn - X - ds * t))
            dX = solve(A, R)
            Xn -= dX
            if np.max(np.abs(dX)) < 1e-11:
                break
        A = np.vstack([np.hstack([jac(Xn[:4]), np.array([[0], [1], [0], [0]])]), t])
        tn = solve(A, np.eye(5)[4])
        tn /= np.linalg.norm(tn)
        if crit(X) * crit(Xn) < 0:  # Hopf between: bisection on the natural parameter
            lo, hi = X, Xn
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                y = mid[:4]
                for _ in range(20):
                    y = y - solve(jac(y), f(y, mid[4]))
                mid = np.append(y, mid[4])
                (lo, hi) = (mid, hi) if crit(mid) * crit(lo) > 0 else (lo, mid)
            hopf.append(0.5 * (lo[4] + hi[4]))
        X, t = Xn, tn
        pts.append(X.copy())
        ds = min(ds * 1.3, 0.02)
    return pts, hopf


def orbits():
    eta = 0.12
    sol = solve_ivp(lambda t, y: f(y, eta), (0, 3000), [0.05, -0.3, 0.05, 0.3], rtol=1e-10, atol=1e-12,
                    dense_output=True)
    # one period from the last upward crossing of r's mean
    tt = np.linspace(1500, 3000, 30001)
    r = sol.sol(tt)[0]
    m = r.mean()
    up = tt[1:][(r[:-1] < m) & (r[1:] >= m)]
    T = up[-1] - up[-2]
    tau = np.linspace(0, 1, 200)
    Y = sol.sol(up[-2] + tau * T)
    v0 = Y[1, 0]
    branch = [(eta, T)]
    for direction in (+1, -1):
        y_mesh, Tk, e = Y.copy(), T, eta
        x_mesh = tau
        while True:
            e2 = e + direction * 0.002
            res = solve_bvp(lambda x, y, p: p[0] * np.array([f(y[:, i], e2) for i in range(y.shape[1])]).T,
                            lambda ya, yb, p: np.append(ya - yb, ya[1] - v0), x_mesh, y_mesh, p=[Tk], tol=1e-8,
                            max_nodes=20000)
            if not res.success or not (0.0 <= e2 <= 0.3):
                break
            e, Tk, x_mesh, y_mesh = e2, res.p[0], res.x, res.y
            v0 = y_mesh[1, 0]
            branch.append((e, Tk))
    return branch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izhinet", default="build/izhinet")
    ap.add_argument("--config", default="configs/fig1a.toml")
    a = ap.parse_args()
    t0 = time.perf_counter()
    pts, hopf = equilibria()
    t1 = time.perf_counter()
    br = orbits()
    t2 = time.perf_counter()
    etas = [b[0] for b in br]
    print(f"scipy: equilibria {len(pts)} points, Hopf at {', '.join(f'{h:.10f}' for h in hopf)} in {t1 - t0:.2f} s; "
          f"periodic orbits by solve_bvp {len(br)} orbits for eta in [{min(etas):.4f}, {max(etas):.4f}] "
          f"(stops at the folds) in {t2 - t1:.2f} s; total {t2 - t0:.2f} s")
    with tempfile.TemporaryDirectory() as d:
        s = time.perf_counter()
        out = subprocess.run([a.izhinet, "bif", "--config", a.config, "--param", "population.0.eta_bar", "--from", "0",
                              "--to", "0.3", "--out", d], capture_output=True, text=True)
        e = time.perf_counter()
        lines = [l for l in (out.stdout + out.stderr).splitlines() if " H on " in l or "LPC on" in l]
        print(f"izhinet bif: {e - s:.2f} s wall (equilibria, both Hopf points, the periodic branch through both folds)")
        for l in lines:
            print("  " + l.split("] ", 2)[-1])


if __name__ == "__main__":
    main()
