#!/usr/bin/env bash
# One large network on a GPU node, continued across time limits and preemptions.
#
#   sbatch tools/slurm/large_gpu_requeue.sh                 # from the repository root
#   N=1000000000 OUT=results/1e9 sbatch tools/slurm/large_gpu_requeue.sh
#
# Slurm sends SIGUSR1 to this script SIGNAL_BEFORE seconds before the time
# limit (--signal=B:USR1@...). The script passes it on to izhinet, which writes
# DIR/checkpoint.bin at the next recording time and exits with status 130; the
# script then requeues the job. The requeued job (same job id, same script)
# finds the checkpoint and continues with `izhinet run --resume DIR`: the
# outputs are appended and end up byte-identical to one uninterrupted run.
# A preemption (SIGTERM from Slurm, then SIGKILL after the grace time) is
# handled the same way; --checkpoint-every bounds what a node failure loses.
#
#SBATCH --job-name=izhinet-large
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --signal=B:USR1@300
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=izhinet-large-%j.log
set -uo pipefail
IZHINET=${IZHINET:-build/izhinet}
CONFIG=${CONFIG:-configs/paper_bursting.toml}
OUT=${OUT:-results/large}
N=${N:-100000000}
BACKEND=${BACKEND:-cuda}
EVERY=${EVERY:-100}  # simulated time between periodic checkpoints
EXTRA=${EXTRA:-}     # more izhinet options (e.g. --set run.t_end=2000)

if [ -e "$OUT/checkpoint.bin" ]; then
  echo "== $(date -u +%FT%TZ) job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}): resuming $OUT"
  set -- run --resume "$OUT"
else
  echo "== $(date -u +%FT%TZ) job ${SLURM_JOB_ID:-?}: new run in $OUT (N = $N)"
  # --overwrite: a folder without a checkpoint holds nothing worth keeping (stopped before the first one)
  set -- run --config "$CONFIG" --set network.n="$N" --out "$OUT" --overwrite
fi
# shellcheck disable=SC2086
"$IZHINET" "$@" --backend "$BACKEND" --checkpoint-every "$EVERY" --progress 60 $EXTRA &
pid=$!
signalled=0
on_signal() {
  signalled=1
  kill -USR1 "$pid" 2>/dev/null
}
trap on_signal USR1 TERM
# `wait` returns early (status > 128) when a trapped signal arrives: wait until izhinet has really ended.
status=0
while :; do
  wait "$pid"
  status=$?
  kill -0 "$pid" 2>/dev/null || break
done
echo "== $(date -u +%FT%TZ) izhinet exited with status $status"
if [ "$status" -eq 130 ] && [ "$signalled" -eq 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "== checkpoint written; requeueing job $SLURM_JOB_ID"
  scontrol requeue "$SLURM_JOB_ID"
fi
exit "$status"
