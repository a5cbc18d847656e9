#!/usr/bin/env bash
# Checkpoints over MPI ranks (docs/checkpoints.md, docs/mpi.md), run by CTest. A checkpoint holds the
# whole network by global neuron index, so it does not depend on the rank count that wrote it:
#  - paper scheme: a run to T/2 over 2 ranks (its final checkpoint), resumed to T over 3 ranks and,
#    from a copy, as one process; a one-process checkpoint resumed over 2 ranks;
#  - exact scheme: a run over 2 ranks stopped by SIGUSR1 to mpirun (which forwards it to every rank at
#    once; the ranks agree on the stop and stop at the same recording time), resumed over 3 ranks;
# each gives timeseries.csv, spikes.csv, meanfield.csv and meanfield_slow.csv byte-identical to one
# uninterrupted process, and the checkpoint written over 2 ranks is the one-process file byte for byte.
# A damaged checkpoint resumed over 2 ranks: one [error] line (rank 0's), a
# non-zero exit, no hang, no file changed; so is a folder without a checkpoint. Exit 77 (skipped) without MPI or mpirun.
set -uo pipefail
BIN=$1
SRC=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
if "$BIN" --version | grep -q '^MPI: OFF'; then
  echo "SKIPPED: this build has no MPI"
  exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIPPED: this build has MPI but mpirun is not on PATH"
  exit 77
fi
MPIRUN=(mpirun --oversubscribe -np)
CFG="$SRC/configs/paper_two_populations.toml"
OUTPUTS="timeseries.csv spikes.csv meanfield.csv meanfield_slow.csv"
same_as() {  # reference folder, folder, what
  for f in $OUTPUTS; do
    [ -s "$1/$f" ] || fail "$3: the reference has no $f"
    cmp -s "$1/$f" "$2/$f" || fail "$3: $f differs from the uninterrupted run"
  done
}
# Every file of a folder with its checksum (the lock file aside).
snapshot() { (cd "$1" && find . -type f ! -name .izhinet.lock -exec md5sum {} + | sort); }
# n = 9001: two populations of one and two moment blocks (4096 neurons), so 2 and 3 ranks cut them
# differently and some rank holds nothing of one population; every neuron's spikes are recorded.
common=(-c "$CFG" -s network.n=9001 -s run.spike_neurons=100000 -b cpu -t 1 -q --progress 0)

# --- paper scheme: written over 2 ranks, resumed over 3 ranks and as one process ---
"$BIN" run "${common[@]}" -s run.t_end=4 -o "$TMP/ref" || fail "paper: uninterrupted run"
[ "$(wc -l <"$TMP/ref/spikes.csv")" -gt 100 ] || fail "paper: too few spikes recorded to compare"
"${MPIRUN[@]}" 2 "$BIN" run "${common[@]}" -s run.t_end=2 --checkpoint-every 1 -o "$TMP/k2" ||
  fail "paper: 2 ranks to t = 2"
[ -f "$TMP/k2/checkpoint.bin" ] || fail "paper: 2 ranks wrote no checkpoint"
cmp -s "$TMP/ref/timeseries.csv" "$TMP/k2/timeseries.csv" && fail "paper: the run to t = 2 is already complete"
cp -r "$TMP/k2" "$TMP/k2copy"
rm -f "$TMP/k2copy/.izhinet.lock"
"${MPIRUN[@]}" 3 "$BIN" run --resume "$TMP/k2" -s run.t_end=4 -b cpu -t 1 -q --progress 0 ||
  fail "paper: resume over 3 ranks"
same_as "$TMP/ref" "$TMP/k2" "paper, written over 2 ranks, resumed over 3"
grep -q '"ranks": 3' "$TMP/k2/summary.json" || fail "paper: summary.json of the resume does not say 3 ranks"
echo "paper: a checkpoint of 2 ranks resumed over 3 ranks gives the uninterrupted run's files"
"$BIN" run --resume "$TMP/k2copy" -s run.t_end=4 -b cpu -t 1 -q --progress 0 || fail "paper: resume as one process"
same_as "$TMP/ref" "$TMP/k2copy" "paper, written over 2 ranks, resumed as one process"
echo "paper: a checkpoint of 2 ranks resumed as one process gives the uninterrupted run's files"
"$BIN" run "${common[@]}" -s run.t_end=2 --checkpoint-every 2 -o "$TMP/k1" || fail "paper: one process to t = 2"
cmp -s "$TMP/k1/checkpoint.bin" "$TMP/k2copy/checkpoint.bin" ||
  fail "paper: the checkpoint at t = 2 written over 2 ranks differs from the one-process checkpoint"
echo "paper: the checkpoint written over 2 ranks is byte-identical to the one-process checkpoint"
"${MPIRUN[@]}" 2 "$BIN" run --resume "$TMP/k1" -s run.t_end=4 -b cpu -t 1 -q --progress 0 ||
  fail "paper: one-process checkpoint resumed over 2 ranks"
same_as "$TMP/ref" "$TMP/k1" "paper, written by one process, resumed over 2 ranks"
echo "paper: a one-process checkpoint resumed over 2 ranks gives the uninterrupted run's files"

# --- exact scheme: SIGUSR1 to mpirun, resumed over 3 ranks ---
# (Open MPI's mpirun forwards SIGUSR1 at once; it answers SIGTERM by ending the job, the ranks getting
# SIGTERM about a second later and SIGKILL a second after that: docs/mpi.md.)
exact=("${common[@]}" -s 'run.scheme="exact"' -s run.t_end=4)
"$BIN" run "${exact[@]}" -o "$TMP/eref" || fail "exact: uninterrupted run"
[ "$(wc -l <"$TMP/eref/spikes.csv")" -gt 100 ] || fail "exact: too few spikes recorded to compare"
# --checkpoint-every only to know when the run is under way; the signal writes its own checkpoint.
"${MPIRUN[@]}" 2 "$BIN" run "${exact[@]}" --checkpoint-every 0.25 -o "$TMP/e2" >"$TMP/e2.log" 2>&1 &
pid=$!
for _ in $(seq 6000); do
  [ -e "$TMP/e2/checkpoint.bin" ] && break
  sleep 0.01
done
kill -USR1 $pid
wait $pid
rc=$?
[ $rc -ne 0 ] || fail "exact: mpirun exited with 0 after SIGUSR1 (the run was not stopped): $(cat "$TMP/e2.log")"
grep -q '"status": "interrupted"' "$TMP/e2/summary.json" ||
  fail "exact: summary.json does not say interrupted: $(cat "$TMP/e2/summary.json") $(cat "$TMP/e2.log")"
cmp -s "$TMP/eref/timeseries.csv" "$TMP/e2/timeseries.csv" && fail "exact: stopped at the end: the test is vacuous"
"${MPIRUN[@]}" 3 "$BIN" run --resume "$TMP/e2" -b cpu -t 1 -q --progress 0 || fail "exact: resume over 3 ranks"
same_as "$TMP/eref" "$TMP/e2" "exact, stopped by SIGUSR1 over 2 ranks, resumed over 3"
echo "exact: SIGUSR1 to mpirun over 2 ranks (exit status $rc), resumed over 3 ranks: the uninterrupted run's files"

# --- a damaged checkpoint over 2 ranks: one error line, non-zero exit, no hang, nothing changed ---
python3 - "$TMP/k1/checkpoint.bin" <<'PY' || fail "cannot damage the checkpoint"
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x10
open(p, "wb").write(bytes(b))
PY
before=$(snapshot "$TMP/k1")
out=$(timeout 120 "${MPIRUN[@]}" 2 "$BIN" run --resume "$TMP/k1" -s run.t_end=6 -b cpu -t 1 --progress 0 2>&1)
rc=$?
out=$(echo "$out" | sed 's/\x1b\[[0-9;]*m//g') # mpirun may give the ranks a terminal: spdlog's colours
[ $rc -ne 124 ] || fail "damaged checkpoint over 2 ranks: the job hangs"
[ $rc -ne 0 ] || fail "damaged checkpoint over 2 ranks: exit status 0"
[ "$(echo "$out" | grep -c '\[error\]')" -eq 1 ] || fail "damaged checkpoint over 2 ranks: not one [error] line: $out"
echo "$out" | grep '\[error\]' | grep -q 'checkpoint.bin.*checksum' || fail "damaged checkpoint: no clear message: $out"
[ "$(snapshot "$TMP/k1")" = "$before" ] || fail "damaged checkpoint over 2 ranks: a file changed"
echo "damaged checkpoint over 2 ranks: one error line, exit status $rc, no file changed"
# A folder without a checkpoint, resumed over 2 ranks: the same (rank 0 reads the folder for all).
rm -f "$TMP/k1/checkpoint.bin"
out=$(timeout 120 "${MPIRUN[@]}" 2 "$BIN" run --resume "$TMP/k1" -b cpu -t 1 --progress 0 2>&1)
rc=$?
out=$(echo "$out" | sed 's/\x1b\[[0-9;]*m//g')
[ $rc -ne 124 ] && [ $rc -ne 0 ] || fail "no checkpoint over 2 ranks: exit status $rc"
[ "$(echo "$out" | grep -c '\[error\]')" -eq 1 ] || fail "no checkpoint over 2 ranks: not one [error] line: $out"
echo "$out" | grep '\[error\]' | grep -q -- '--resume: folder .* holds no checkpoint.bin' ||
  fail "no checkpoint over 2 ranks: no clear message: $out"
echo "a folder without a checkpoint over 2 ranks: one error line, exit status $rc"
