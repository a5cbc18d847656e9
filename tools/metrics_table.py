#!/usr/bin/env python3
"""Markdown table of network vs mean-field metrics from izhinet output folders.

    python3 tools/metrics_table.py DIR [DIR ...] > metrics.md

Reads DIR/validation.json and DIR/summary.json of each run: per population
and side (network; exact and slow-adaptation mean field, as the attractor
the network was compared with) the regime, late mean [min, max] of r and
<w>, the period, and against each mean field the NRMS (row by row against
its trajectory) and the relative difference of the late means; then the
closing verdict. Field meanings: README.md, "validation.json".
"""
import json
import os
import sys


def f(x, fmt="{:.4g}"):
    return "—" if x is None else fmt.format(x)


def die(msg):
    print(f"metrics_table: {msg}", file=sys.stderr)
    sys.exit(2)


def read(d, name):
    path = os.path.join(d, name)
    if not os.path.isdir(d):
        die(f"{d}: no such folder")
    if not os.path.exists(path):
        die(f"{path} not found (is {d} the output folder of a completed izhinet run?)")
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        die(f"{path}: cannot be read ({e})")


def main(dirs):
    for d in dirs:  # every folder checked before the table starts
        read(d, "validation.json"), read(d, "summary.json")
    print("| run | side | regime | r mean [min, max] | <w> mean [min, max] | period | NRMS r / w vs network | late-mean diff r / w |")
    print("|---|---|---|---|---|---|---|---|")
    for d in dirs:
        v = read(d, "validation.json")
        s = read(d, "summary.json")
        p = s["parameters"]
        label = (f"eta_bar = {p['population'][0]['eta_bar']}, N = {p['network']['n']}, "
                 f"{p['run']['scheme']}, {s['backend']}")
        net = v["network"]
        P = len(net["populations"])
        for i in range(P):
            pop = net["populations"][i]
            print(f"| {label} (pop {i}) | network | {net['regime']} | "
                  f"{f(pop['r']['mean'])} [{f(pop['r']['min'])}, {f(pop['r']['max'])}] | "
                  f"{f(pop['w']['mean'])} [{f(pop['w']['min'])}, {f(pop['w']['max'])}] | {f(net['period'])} | | |")
            for side, cmp_key, name in (("exact", "network_vs_exact", "exact MF"),
                                        ("slow", "network_vs_slow", "slow-adaptation MF")):
                c = v[cmp_key]
                if c["outcome"] == "unavailable":
                    print(f"| {label} (pop {i}) | {name} | failed: {v[side].get('failure')} | | | | | |")
                    continue
                if not c["populations"]:
                    continue
                cp = c["populations"][i]
                ref = lambda var, st: cp[var][st]["meanfield"]
                nrms = f"{f(cp['r']['nrms'])} / {f(cp['w']['nrms'])}"
                diff = f"{f(cp['r']['mean']['rel_diff'], '{:+.2%}')} / {f(cp['w']['mean']['rel_diff'], '{:+.2%}')}"
                print(f"| {label} (pop {i}) | {name} | {c['regime_meanfield']} | "
                      f"{f(ref('r', 'mean'))} [{f(ref('r', 'min'))}, {f(ref('r', 'max'))}] | "
                      f"{f(ref('w', 'mean'))} [{f(ref('w', 'min'))}, {f(ref('w', 'max'))}] | "
                      f"{f(c['period']['meanfield'])} | {nrms} | {diff} |")
        print(f"| {label} | verdict | {v['verdict']} | | | | | |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
