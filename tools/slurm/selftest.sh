#!/usr/bin/env bash
# Tests large_gpu_requeue.sh against a real single-node Slurm started here:
# a CPU run with a 2-minute time limit is signalled (USR1 via --signal),
# checkpoints, is requeued and resumes, until it completes; its outputs must
# be byte-identical to an uninterrupted run.
#
#   sudo bash tools/slurm/selftest.sh      # from the repository root; needs root
#
# Needs Debian's slurm-wlm and munge (IZHINET_SLURM=1 bash tools/setup.sh, or
# apt-get install slurm-wlm munge). It
# starts munged, slurmctld and slurmd with a private configuration under a
# temporary folder and stops them at the end. Not in CI: it needs root, system
# daemons and several minutes (Slurm's time limits are whole minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
IZHINET=${IZHINET:-$ROOT/build/izhinet}
command -v slurmctld >/dev/null || {
  echo "selftest: slurm-wlm is not installed (IZHINET_SLURM=1 bash tools/setup.sh, or apt-get install slurm-wlm munge)"
  exit 77
}
[ "$(id -u)" -eq 0 ] || { echo "selftest: needs root (it starts munged, slurmctld, slurmd)"; exit 77; }
[ -x "$IZHINET" ] || { echo "selftest: build izhinet first ($IZHINET)"; exit 1; }

W=$(mktemp -d /tmp/izhinet_slurm.XXXXXX)
chmod 755 "$W"
HOST=$(hostname -s)
CPUS=$(nproc)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# munge: a key of our own, its own socket
mkdir -p "$W/munge" && chmod 700 "$W/munge"
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$W/munge/munge.key"
munged --key-file="$W/munge/munge.key" --socket="$W/munge/socket" --pid-file="$W/munge/pid" \
  --log-file="$W/munge/log" --seed-file="$W/munge/seed" -f --foreground &
pids+=($!)
sleep 1

mkdir -p "$W/state" "$W/spool"
cat >"$W/slurm.conf" <<CONF
ClusterName=izhinet-selftest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$W/munge/socket
CryptoType=crypto/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
MinJobAge=600
InactiveLimit=0
KillWait=30
OverTimeLimit=0
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$W/slurm.conf"
slurmctld -D -f "$SLURM_CONF" &
pids+=($!)
slurmd -D -f "$SLURM_CONF" &
pids+=($!)
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo

# The reference: the same run, uninterrupted.
CONFIG=configs/paper_two_populations.toml
SETS="--set network.n=${SELFTEST_N:-400000} --set run.t_end=${SELFTEST_T:-60}"
echo "== uninterrupted reference run"
"$IZHINET" run -c "$CONFIG" $SETS -b cpu -t 1 --progress 0 -q -o "$W/reference"

# The job script without the GPU request (this node has none), a 2-minute limit, USR1 60 s before it
# (Slurm may send it up to 60 s earlier than asked: the signal comes 0-60 s into each job).
sed -e '/#SBATCH --gres/d' -e 's/#SBATCH --time=.*/#SBATCH --time=2/' -e 's/#SBATCH --signal=.*/#SBATCH --signal=B:USR1@60/' \
  tools/slurm/large_gpu_requeue.sh >"$W/job.sh"
OUT="$W/run"
job=$(IZHINET="$IZHINET" CONFIG="$CONFIG" OUT="$OUT" BACKEND=cpu EVERY=5 N="${SELFTEST_N:-400000}" \
  EXTRA="--set run.t_end=${SELFTEST_T:-60} --threads 1" \
  sbatch --parsable --chdir="$ROOT" --output="$W/job-%j.log" --cpus-per-task=1 "$W/job.sh")
echo "== submitted job $job"
deadline=$(($(date +%s) + ${SELFTEST_TIMEOUT:-1500}))
while :; do
  state=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  [ "$state" = COMPLETED ] && break
  case "$state" in FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
    echo "selftest: job ended $state"; cat "$W"/job-*.log; exit 1 ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || { echo "selftest: timed out (state $state)"; cat "$W"/job-*.log; exit 1; }
  sleep 5
done
restarts=$(scontrol show job "$job" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
cat "$W"/job-*.log
echo "== job $job completed after $restarts requeue(s)"
fail=0
for f in timeseries.csv spikes.csv meanfield.csv meanfield_slow.csv; do
  if cmp -s "$W/reference/$f" "$OUT/$f"; then echo "same: $f"; else echo "DIFFERENT: $f"; fail=1; fi
done
[ "${restarts:-0}" -ge 1 ] || { echo "selftest: the job was never requeued (the run was too short to be signalled)"; fail=1; }
[ $fail -eq 0 ] && echo "selftest: PASS" || echo "selftest: FAIL"
exit $fail
