#!/usr/bin/env bash
# A finite-size study as a job array: one array task per network size, each
# its own `izhinet finite-size` folder (the study resumes its finished runs
# when a task is requeued), then combine the tables.
#
#   sbatch --array=0-4 tools/slurm/finite_size_array.sh
#
# Sizes: SIZES (one per array index). A task stopped by the time limit or a
# preemption is requeued and `izhinet finite-size` resumes with the runs it has
# (a run under way is redone). Use large_gpu_requeue.sh for one long network.
#
#SBATCH --job-name=izhinet-fs
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
#SBATCH --signal=B:USR1@120
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=izhinet-fs-%A_%a.log
set -uo pipefail
IZHINET=${IZHINET:-build/izhinet}
CONFIG=${CONFIG:-configs/finite_size_bursting.toml}
OUT=${OUT:-results/finite_size}
read -r -a SIZES <<<"${SIZES:-1000 3000 10000 30000 100000}"
i=${SLURM_ARRAY_TASK_ID:-0}
n=${SIZES[$i]}
"$IZHINET" finite-size --config "$CONFIG" --n "$n" --seeds "${SEEDS:-5}" --threads "${SLURM_CPUS_PER_TASK:-0}" \
  --progress 60 --out "$OUT/n_$n" &
pid=$!
signalled=0
trap 'signalled=1; kill -TERM "$pid" 2>/dev/null' USR1 TERM
status=0
while :; do
  wait "$pid"
  status=$?
  kill -0 "$pid" 2>/dev/null || break
done
if [ "$status" -eq 130 ] && [ "$signalled" -eq 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${i}"
fi
exit "$status"
