#!/usr/bin/env bash
# The paper's headline experiment, end to end (the README's first command):
# install, build, then one population at eta_bar = 0.25 (tonic) and 0.12
# (bursting), network plus both mean fields, figures and the metrics table;
# then Fig. 1 (the mean field's bifurcation diagram with networks swept onto it).
# N = 10^4 on the CPU; 10^6 when a GPU is present (override: N=... bash tools/main_job.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
# The figures need numpy and matplotlib: the system's Python, or the virtual
# environment tools/setup.sh made where it could not install them system-wide.
PY=${IZHINET_PYTHON:-python3}
VENV=${IZHINET_VENV:-.venv}
if ! "$PY" -c "import numpy, matplotlib" >/dev/null 2>&1 && [ -x "$VENV/bin/python" ]; then PY="$VENV/bin/python"; fi
OUTDIR=${OUTDIR:-results}
if [ -z "${N:-}" ]; then
  N=10000
  # GPU sizes only when this build can run its kernels on the GPU that is there
  # (izhinet --version asks the device; an unsupported architecture says "not usable").
  if build/izhinet --version | grep -q "^GPU: usable"; then N=1000000; fi
fi
mkdir -p "$OUTDIR"
start=$(date +%s)
for point in tonic bursting; do
  echo "== paper_${point}: network (N = $N) and both mean fields"
  build/izhinet run --config "configs/paper_${point}.toml" --set network.n="$N" --out "$OUTDIR/$point" --progress 30 \
    --overwrite  # a rerun replaces the previous results
  "$PY" tools/plot_run.py "$OUTDIR/$point" --out "$OUTDIR/${point}.png"
done
# Fig. 1a/1c: the bifurcation diagram of the mean field in eta_bar (izhinet bif, under a second),
# with networks swept onto it (izhinet sweep: one N = 2000 network per value, about a second each).
echo "== Fig. 1: bifurcation diagram of the mean field in eta_bar, networks swept onto it"
build/izhinet bif --config configs/fig1a.toml --param population.0.eta_bar --from 0 --to 0.3 --out "$OUTDIR/fig1a" \
  --overwrite
build/izhinet sweep --config configs/fig1c_sweep.toml --param population.0.eta_bar --values 0.08:0.28:11 \
  --out "$OUTDIR/fig1c" --progress 30 --overwrite
"$PY" tools/plot_bifurcation.py "$OUTDIR/fig1a" --sweep "$OUTDIR/fig1c" --var w0 --out "$OUTDIR/fig1.png"
"$PY" tools/metrics_table.py "$OUTDIR/tonic" "$OUTDIR/bursting" > "$OUTDIR/metrics.md"
echo "== metrics ($OUTDIR/metrics.md), $(( $(date +%s) - start )) s for the experiment"
cat "$OUTDIR/metrics.md"
echo "figures: $OUTDIR/tonic.png $OUTDIR/bursting.png $OUTDIR/fig1.png"
