#!/usr/bin/env bash
# The paper's headline experiment, end to end (the README's first command):
# install, build, then one population at eta_bar = 0.25 (tonic) and 0.12
# (bursting), network plus both mean fields, figures and the metrics table.
# N = 10^4 on the CPU; 10^6 when a GPU is present (override: N=... bash tools/main_job.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
OUTDIR=${OUTDIR:-results}
if [ -z "${N:-}" ]; then
  N=10000
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && \
     grep -q "IZHINET_HAVE_CUDA:INTERNAL=ON" build/CMakeCache.txt 2>/dev/null; then N=1000000; fi
fi
mkdir -p "$OUTDIR"
start=$(date +%s)
for point in tonic bursting; do
  echo "== paper_${point}: network (N = $N) and both mean fields"
  build/izhinet run --config "configs/paper_${point}.toml" --set network.n="$N" --out "$OUTDIR/$point" --progress 30 \
    --overwrite  # a rerun replaces the previous results
  python3 tools/plot_run.py "$OUTDIR/$point" --out "$OUTDIR/${point}.png"
done
python3 tools/metrics_table.py "$OUTDIR/tonic" "$OUTDIR/bursting" > "$OUTDIR/metrics.md"
echo "== metrics ($OUTDIR/metrics.md), $(( $(date +%s) - start )) s for the experiment"
cat "$OUTDIR/metrics.md"
echo "figures: $OUTDIR/tonic.png $OUTDIR/bursting.png"
