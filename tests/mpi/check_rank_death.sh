#!/usr/bin/env bash
# A rank dying in the middle of a run (docs/mpi.md, "Failures"), run by CTest:
# one network over 2 ranks, rank 1 killed with SIGKILL once rank 0 has written
# a few rows. Checks that the job ends (no hang: within a timeout), with a
# non-zero exit status, that the launcher's message names the rank that died,
# and that rank 0's timeseries.csv is intact: every line complete (the
# header's number of columns, a final newline) and the file a prefix of the
# same run's file when nothing is killed (byte for byte). Exit 77 (skipped)
# in a build without MPI or without mpirun.
set -uo pipefail
BIN=$1
SRC=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
TMP=$(mktemp -d)
JOB=""
cleanup() {
  [ -n "$JOB" ] && kill "$JOB" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
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

# Long enough never to finish by itself (t_end = 1e5 ms); the folder's name finds the ranks' processes.
OUTDIR="$TMP/out-rank-death-$$"
args=(run -c "$SRC/configs/paper_two_populations.toml" -s network.n=20000 -s run.t_end=100000 --no-meanfield -b cpu -t 1 -q)
timeout 180 mpirun --oversubscribe -np 2 "$BIN" "${args[@]}" -o "$OUTDIR" >"$TMP/job.log" 2>&1 &
JOB=$!
TS="$OUTDIR/timeseries.csv"
for _ in $(seq 1 600); do
  [ -f "$TS" ] && [ "$(wc -l <"$TS")" -ge 4 ] && break
  kill -0 "$JOB" 2>/dev/null || fail "the job ended before rank 1 was killed: $(cat "$TMP/job.log")"
  sleep 0.2
done
[ -f "$TS" ] && [ "$(wc -l <"$TS")" -ge 4 ] || fail "rank 0 wrote no rows within 120 s"

# Rank 1: the process of this run whose launcher environment says rank 1 (Open MPI or a PMI launcher).
victim=""
for pid in $(pgrep -f "out-rank-death-$$"); do
  env=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null) || continue
  if grep -qx 'OMPI_COMM_WORLD_RANK=1' <<<"$env" || grep -qx 'PMI_RANK=1' <<<"$env"; then
    victim=$pid
    break
  fi
done
[ -n "$victim" ] || fail "could not find the process of rank 1"
kill -KILL "$victim"
start=$(date +%s)
wait "$JOB"
rc=$?
JOB=""
took=$(($(date +%s) - start))
[ $rc -ne 124 ] || fail "the job did not end within the timeout after rank 1 was killed (hang)"
[ $rc -ne 0 ] || fail "the job exited with status 0 after rank 1 was killed"
grep -Eiq 'rank 1\b.*(signal 9|killed)' "$TMP/job.log" ||
  fail "no message naming rank 1 and its signal: $(cat "$TMP/job.log")"
echo "rank 1 killed: the job ended $took s later with exit status $rc; the launcher said:"
grep -Ei 'rank 1\b' "$TMP/job.log" | head -2 | sed 's/^/  /'

# Rank 0's rows: complete lines only.
[ "$(tail -c 1 "$TS" | od -An -c | tr -d ' ')" = '\n' ] || fail "timeseries.csv does not end in a newline (a torn row)"
python3 - "$TS" <<'PY' || fail "timeseries.csv has an incomplete row"
import sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
cols = len(lines[0].split(","))
bad = [i + 1 for i, l in enumerate(lines) if len(l.split(",")) != cols or any(x == "" for x in l.split(","))]
assert not bad, "lines %s do not have the header's %d columns" % (bad[:5], cols)
PY
rows=$(wc -l <"$TS")
# The same run, uninterrupted up to the last row rank 0 wrote, in one process: the killed run's file is its prefix.
t_last=$(tail -n 1 "$TS" | cut -d, -f1)
"$BIN" "${args[@]}" -s run.t_end="$t_last" -o "$TMP/ref" || fail "the reference run up to t = $t_last"
[ "$(wc -l <"$TMP/ref/timeseries.csv")" -ge "$rows" ] || fail "the reference run has fewer rows than the killed one"
head -n "$rows" "$TMP/ref/timeseries.csv" | cmp - "$TS" || fail "timeseries.csv of the killed run is not a prefix of the uninterrupted run's"
echo "rank 0's timeseries.csv: $rows complete lines up to t = $t_last, a prefix of the uninterrupted run's file"
