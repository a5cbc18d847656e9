#!/usr/bin/env bash
# MPI checks (docs/mpi.md), run by CTest: one network over K = 1, 2, 3 ranks
# gives byte-identical timeseries.csv and spikes.csv (both schemes, population
# sizes that do not divide by K, and ranks holding no neuron of a population);
# more ranks than neurons is refused; a finite-size study and a sweep over
# ranks equal the one-process ones (also resumed with another K). In a build
# without MPI: asking for MPI is refused with a message naming the build. Exit 77 (skipped) when the build
# has MPI but mpirun is missing.
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
  out=$("$BIN" run --mpi -c "$SRC/configs/paper_bursting.toml" -o "$TMP/x" 2>&1)
  rc=$?
  [ $rc -eq 2 ] || fail "--mpi in a build without MPI: exit status $rc, expected 2"
  echo "$out" | grep -q 'built without MPI' || fail "--mpi in a build without MPI: no message saying so: $out"
  [ ! -e "$TMP/x" ] || fail "--mpi in a build without MPI created the output folder"
  echo "build without MPI: --mpi refused with a clear message"
  exit 0
fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIPPED: this build has MPI but mpirun is not on PATH"
  exit 77
fi
MPIRUN=(mpirun --oversubscribe -np)

# A refusal every rank reaches alike (mf and bif run as one process; a sweep's bad option) is one error
# line from rank 0 and exit status 2, no rank ending the job with MPI_ABORT. Output collected into a file
# carries no colour codes (a launcher may give the ranks a terminal).
check_one_refusal() {  # what, then the izhinet arguments
  local what=$1
  shift
  "${MPIRUN[@]}" 2 "$BIN" "$@" >"$TMP/refusal.txt" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || fail "$what over 2 ranks: exit status $rc, expected 2: $(cat "$TMP/refusal.txt")"
  [ "$(grep -c '\[error\]' "$TMP/refusal.txt")" -eq 1 ] || fail "$what over 2 ranks: not exactly one error line: $(cat "$TMP/refusal.txt")"
  ! grep -q 'MPI_ABORT\|ends the job' "$TMP/refusal.txt" || fail "$what over 2 ranks: a rank aborted the job: $(cat "$TMP/refusal.txt")"
  ! grep -q $'\e\\[' "$TMP/refusal.txt" || fail "$what over 2 ranks: colour codes in redirected output"
}
check_one_refusal "mf" mf -c "$SRC/configs/paper_bursting.toml" -o "$TMP/mf2"
check_one_refusal "bif" bif -c "$SRC/configs/paper_bursting.toml" --param population.0.eta_bar --from 0 --to 0.1 \
  -o "$TMP/bif2"
check_one_refusal "sweep with a bad --values" sweep -c "$SRC/configs/fig1c_sweep.toml" --param population.0.eta_bar \
  --values x -o "$TMP/sw2"
[ ! -e "$TMP/mf2" ] && [ ! -e "$TMP/bif2" ] && [ ! -e "$TMP/sw2" ] || fail "a refused command created its folder"
echo "mf, bif and a bad sweep over 2 ranks: one error line, exit status 2, no MPI_ABORT, no colour codes"

CFG="$SRC/configs/paper_two_populations.toml"
# n = 5001 (two populations: each has one or two moment blocks of 4096, so rank 2 of 3 holds
# nothing of one of them) and n = 20001 (several blocks, sizes not divisible by 2 or 3).
# (ranks busy-wait in MPI: on a loaded 2-core machine each case takes seconds, so the cases are few and short)
for case in 5001:exact 5001:paper 20001:paper; do
  n=${case%%:*} scheme=${case##*:}
  {
    args=(run -c "$CFG" -s network.n=$n -s run.t_end=4 -s run.spike_neurons=400 -s "run.scheme=\"$scheme\""
      --no-meanfield -b cpu -t 1 -q)
    "$BIN" "${args[@]}" -o "$TMP/k1" || fail "one process, n = $n, $scheme"
    [ "$(wc -l <"$TMP/k1/spikes.csv")" -gt 20 ] || fail "too few spikes recorded to compare (n = $n, $scheme)"
    for k in 2 3; do
      "${MPIRUN[@]}" $k "$BIN" "${args[@]}" -o "$TMP/k$k" || fail "mpirun -np $k, n = $n, $scheme"
      cmp "$TMP/k1/timeseries.csv" "$TMP/k$k/timeseries.csv" || fail "timeseries.csv differs: 1 vs $k ranks, n = $n, $scheme"
      cmp "$TMP/k1/spikes.csv" "$TMP/k$k/spikes.csv" || fail "spikes.csv differs: 1 vs $k ranks, n = $n, $scheme"
      grep -q "\"ranks\": $k" "$TMP/k$k/summary.json" || fail "summary.json does not say $k ranks"
      rm -rf "$TMP/k$k"
    done
    echo "n = $n, $scheme: 1, 2 and 3 ranks give byte-identical timeseries.csv and spikes.csv"
    rm -rf "$TMP/k1"
  }
done

# With the mean-field validator (rank 0 runs it): the same verdict as one process.
args=(run -c "$SRC/configs/paper_bursting.toml" -s network.n=4000 -s run.t_end=10 -b cpu -t 1 -q)
"$BIN" "${args[@]}" -o "$TMP/v1" || fail "validator run, one process"
"${MPIRUN[@]}" 2 "$BIN" "${args[@]}" -o "$TMP/v2" || fail "validator run, 2 ranks"
cmp "$TMP/v1/timeseries.csv" "$TMP/v2/timeseries.csv" || fail "validator run: timeseries.csv differs"
[ -f "$TMP/v2/validation.json" ] || fail "validator run over 2 ranks wrote no validation.json"
v1=$(grep -m1 '^  "verdict"' "$TMP/v1/validation.json")
v2=$(grep -m1 '^  "verdict"' "$TMP/v2/validation.json")
[ -n "$v1" ] && [ "$v1" = "$v2" ] || fail "verdicts differ: '$v1' vs '$v2'"
echo "validator on rank 0: same time series and verdict ($v1)"

# More ranks than neurons: refused, naming the key, nothing written.
out=$("${MPIRUN[@]}" 3 "$BIN" run -c "$SRC/configs/paper_bursting.toml" -s network.n=2 -b cpu -q -o "$TMP/small" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "3 ranks for 2 neurons: exit status $rc, expected 2: $out"
[ "$(echo "$out" | grep -c 'network.n: 2 neurons cannot be split over 3 MPI ranks')" -eq 1 ] ||
  fail "3 ranks for 2 neurons: not exactly one error line: $out"
echo "$out" | grep -q 'MPI_ABORT\|ends the job' && fail "3 ranks for 2 neurons: the job was aborted instead of ending cleanly: $out"
[ ! -e "$TMP/small" ] || fail "3 ranks for 2 neurons created the output folder"
echo "more ranks than neurons: one error line from rank 0, exit status 2, no abort"

# A bad option over ranks: the same, one line.
out=$("${MPIRUN[@]}" 2 "$BIN" run -c "$SRC/configs/paper_bursting.toml" --checkpoint-every -5 -b cpu -q -o "$TMP/bad" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "--checkpoint-every -5 over 2 ranks: exit status $rc, expected 2: $out"
[ "$(echo "$out" | grep -c -- '--checkpoint-every')" -eq 1 ] || fail "--checkpoint-every -5: not one error line: $out"
echo "$out" | grep -q 'MPI_ABORT\|ends the job' && fail "--checkpoint-every -5: the job was aborted: $out"
echo "bad option over 2 ranks: one error line, exit status 2"

# An output folder in use (another process holds its lock): one line from rank 0, exit status 6, no abort.
mkdir -p "$TMP/busy"
flock "$TMP/busy/.izhinet.lock" sleep 60 &
holder=$!
sleep 0.5
out=$("${MPIRUN[@]}" 2 "$BIN" run -c "$SRC/configs/paper_bursting.toml" -s run.t_end=1 -b cpu -q -o "$TMP/busy" 2>&1)
rc=$?
kill $holder 2>/dev/null
wait $holder 2>/dev/null
[ $rc -eq 6 ] || fail "folder in use over 2 ranks: exit status $rc, expected 6: $out"
[ "$(echo "$out" | grep -c 'is in use by another izhinet process')" -eq 1 ] || fail "folder in use: not one error line: $out"
echo "$out" | grep -q 'MPI_ABORT\|ends the job' && fail "folder in use: the job was aborted: $out"
echo "output folder in use over 2 ranks: one error line, exit status 6"

# A finite-size study over ranks equals the one-process study: the same rows (in another order; the
# wall_seconds column aside) and the same finite_size.json (provenance aside). Then a study over 2 ranks
# that lost runs (as a job killed mid-run does: rows of unfinished runs are missing) resumed over 3 ranks.
study=(finite-size -c "$SRC/configs/finite_size_bursting.toml" -s run.t_end=30 -s meanfield.transient=10
  --n 100,150,200 --seeds 2 -b cpu -t 1 -q)
compare_studies() {  # folder, folder
  python3 - "$1" "$2" <<'PY' || fail "studies differ: $1 vs $2"
import csv, json, sys
def rows(d):
    with open(d + "/finite_size.csv") as f:
        r = list(csv.reader(f))
    w = r[0].index("wall_s")
    return r[0], sorted(tuple(x for i, x in enumerate(row) if i != w) for row in r[1:])
def summary(d):
    j = json.load(open(d + "/finite_size.json"))
    j.pop("provenance", None)
    return j
a, b = sys.argv[1], sys.argv[2]
assert rows(a) == rows(b), "finite_size.csv rows differ"
assert len(rows(a)[1]) == 9, "expected 9 runs, got %d" % len(rows(a)[1])
assert summary(a) == summary(b), "finite_size.json differs"
import os
assert sorted(os.listdir(a + "/runs")) == sorted(os.listdir(b + "/runs")), "runs/ differ"
PY
}
"$BIN" "${study[@]}" -o "$TMP/s1" || fail "study, one process"
"${MPIRUN[@]}" 2 "$BIN" "${study[@]}" -o "$TMP/s2" || fail "study, 2 ranks"
compare_studies "$TMP/s1" "$TMP/s2"
echo "finite-size study over 2 ranks: the same rows and finite_size.json as one process"
# Lose 4 of the 9 runs, then resume over 3 ranks.
head -n 6 "$TMP/s2/finite_size.csv" >"$TMP/cut" && mv "$TMP/cut" "$TMP/s2/finite_size.csv"
"${MPIRUN[@]}" 3 "$BIN" "${study[@]}" -o "$TMP/s2" || fail "study resumed over 3 ranks"
compare_studies "$TMP/s1" "$TMP/s2"
echo "finite-size study resumed over 3 ranks after losing runs: the same as one process"

# A sweep (--direction none) over ranks equals the one-process sweep: the same sweep.csv, rows in the
# values' order, the wall_seconds column aside. Then a sweep over 2 ranks that lost a row (the middle
# value) resumed over 3 ranks: the same rows again. A carried direction over ranks is refused.
# (0.1: an oscillating network, 0.2 and 0.3: equilibria, in the values' order 0.1, 0.3, 0.2)
sweep=(sweep -c "$SRC/configs/fig1c_sweep.toml" -s run.t_end=900 -s meanfield.transient=300 -s run.dt=0.05
  --param population.0.eta_bar --values 0.1,0.3,0.2 --n 500 -b cpu -t 1 -q)
compare_sweeps() {  # folder, folder, "ordered" or "sorted"
  python3 - "$1" "$2" "$3" <<'PY' || fail "sweeps differ: $1 vs $2"
import csv, sys
def rows(d):
    with open(d + "/sweep.csv") as f:
        r = list(csv.reader(f))
    w = r[0].index("wall_seconds")
    body = [tuple(x for i, x in enumerate(row) if i != w) for row in r[1:]]
    return r[0], (body if sys.argv[3] == "ordered" else sorted(body))
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert a == b, "sweep.csv rows differ:\n%s\n%s" % (a, b)
assert [x[0] for x in a[1]] == (["0.1", "0.3", "0.2"] if sys.argv[3] == "ordered" else ["0.1", "0.2", "0.3"]), a[1]
assert {x[2] for x in a[1]} == {"oscillation", "equilibrium"}, "expected both regimes: %s" % (a[1],)
PY
}
"$BIN" "${sweep[@]}" -o "$TMP/w1" || fail "sweep, one process"
"${MPIRUN[@]}" 2 "$BIN" "${sweep[@]}" -o "$TMP/w2" || fail "sweep, 2 ranks"
compare_sweeps "$TMP/w1" "$TMP/w2" ordered
echo "sweep over 2 ranks: the same sweep.csv as one process (wall_seconds aside)"
sed -i '3d' "$TMP/w2/sweep.csv" # lose the row of 0.3
[ "$(wc -l <"$TMP/w2/sweep.csv")" -eq 3 ] || fail "sweep.csv of 2 ranks: expected 3 lines before the resume"
"${MPIRUN[@]}" 3 "$BIN" "${sweep[@]}" -o "$TMP/w2" || fail "sweep resumed over 3 ranks"
compare_sweeps "$TMP/w1" "$TMP/w2" sorted
echo "sweep resumed over 3 ranks after losing a row: the same rows as one process"
out=$("${MPIRUN[@]}" 2 "$BIN" "${sweep[@]}" --direction up -o "$TMP/wup" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "carried sweep over 2 ranks: exit status $rc, expected 2"
echo "$out" | grep -q 'direction: up: a carried sweep is sequential' || fail "carried sweep over ranks: no clear message: $out"
[ ! -e "$TMP/wup" ] || fail "carried sweep over 2 ranks created the output folder"
echo "carried sweep over 2 ranks: refused (exit status $rc)"
