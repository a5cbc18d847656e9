#!/usr/bin/env python3
"""Markdown table of network vs mean-field metrics from izhinet output folders.

    python3 tools/metrics_table.py DIR [DIR ...] > metrics.md

Reads DIR/validation.json and DIR/summary.json of each run: per population
and side (network, exact mean field, slow-adaptation mean field) the regime,
late-time mean/min/max of r and <w>, the dominant period, and the NRMS and
late-mean differences of the network against each mean field.
"""
import json
import os
import sys


def f(x, fmt="{:.4g}"):
    return "—" if x is None else fmt.format(x)


def main(dirs):
    print("| run | side | regime | r mean [min, max] | <w> mean [min, max] | period | NRMS r / w vs network | late-mean diff r / w |")
    print("|---|---|---|---|---|---|---|---|")
    for d in dirs:
        with open(os.path.join(d, "validation.json")) as fh:
            v = json.load(fh)
        with open(os.path.join(d, "summary.json")) as fh:
            s = json.load(fh)
        p = s["parameters"]
        label = (f"eta_bar = {p['population'][0]['eta_bar']}, N = {p['network']['n']}, "
                 f"{p['run']['scheme']}, {s['backend']}")
        P = len(v["network"]["populations"])
        for i in range(P):
            for side, cmp_key in (("network", None), ("exact", "network_vs_exact"), ("slow", "network_vs_slow")):
                sd = v[side]
                if not sd.get("available"):
                    print(f"| {label} (pop {i}) | {side} | failed: {sd.get('failure')} | | | | | |")
                    continue
                pop = sd["populations"][i]
                r, w = pop["r"], pop["w"]
                nrms = diff = ""
                if cmp_key:
                    c = v[cmp_key]["populations"][i]
                    nrms = f"{f(c['r']['nrms'])} / {f(c['w']['nrms'])}"
                    diff = f"{f(c['r']['rel_mean_diff'], '{:+.2%}')} / {f(c['w']['rel_mean_diff'], '{:+.2%}')}"
                name = {"network": "network", "exact": "exact MF", "slow": "slow-adaptation MF"}[side]
                print(f"| {label} (pop {i}) | {name} | {pop['regime']} | {f(r['mean'])} [{f(r['min'])}, {f(r['max'])}] | "
                      f"{f(w['mean'])} [{f(w['min'])}, {f(w['max'])}] | {f(pop['period'])} | {nrms} | {diff} |")
        print(f"| {label} | verdict | {v['verdict']} | | | | | |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
