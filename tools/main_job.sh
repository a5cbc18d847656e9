#!/usr/bin/env bash
# The paper's headline experiment, end to end (the README's first command):
# install, build, then one population at eta_bar = 0.25 (tonic) and 0.12
# (bursting), network plus both mean fields, figures and the metrics table.
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
"$PY" tools/metrics_table.py "$OUTDIR/tonic" "$OUTDIR/bursting" > "$OUTDIR/metrics.md"
echo "== metrics ($OUTDIR/metrics.md), $(( $(date +%s) - start )) s for the experiment"
cat "$OUTDIR/metrics.md"
echo "figures: $OUTDIR/tonic.png $OUTDIR/bursting.png"
