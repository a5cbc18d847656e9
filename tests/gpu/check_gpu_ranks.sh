#!/usr/bin/env bash
# GPU ranks (docs/mpi.md), run by CTest under the labels gpu and mpi: one
# network over K = 1, 2, 3 ranks of the CUDA backend, all on one device.
#  - K = 2 and K = 3 give byte-identical timeseries.csv (the moments are
#    summed per global 4096-neuron block in a fixed order and added in block
#    order, whatever K);
#  - K = 1, 2, 3 give byte-identical spikes.csv (the trajectory is the same
#    bits: the per-step counts and weights are integers summed over the ranks);
#  - K = 1 (the single-process path, whose moments are summed with double
#    atomics, so their last bits vary from run to run) and the CPU backend
#    agree with K = 2 to 1e-9 (relative, at least absolute) in every column;
#  - summary.json says how many ranks.
# Both schemes; population sizes that do not divide by K; a rank holding no
# neuron of a population (n = 5001). Exit 77 (skipped) without a usable GPU,
# without CUDA or MPI in this build, or without mpirun.
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

version=$("$BIN" --version)
if ! grep -q '^GPU: usable' <<<"$version"; then
  echo "SKIPPED: $(grep -m1 '^GPU:' <<<"$version" || echo 'no GPU line in --version')"
  exit 77
fi
if grep -q '^MPI: OFF' <<<"$version"; then
  echo "SKIPPED: this build has no MPI"
  exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIPPED: mpirun is not on PATH"
  exit 77
fi
MPIRUN=(mpirun --oversubscribe -np)

# near A B: every number of B within 1e-9 * max(1, |B|) of A's, the same shape and text otherwise.
near() {
  python3 - "$1" "$2" <<'PY'
import sys
a = [l.split(",") for l in open(sys.argv[1]).read().split("\n")]
b = [l.split(",") for l in open(sys.argv[2]).read().split("\n")]
assert len(a) == len(b), "%d vs %d lines" % (len(a), len(b))
worst = 0.0
for i, (x, y) in enumerate(zip(a, b)):
    assert len(x) == len(y), "line %d: %d vs %d columns" % (i + 1, len(x), len(y))
    for u, v in zip(x, y):
        if u == v:
            continue
        fu, fv = float(u), float(v)  # a header differing would fail here
        d = abs(fu - fv) / max(1.0, abs(fv))
        worst = max(worst, d)
        assert d <= 1e-9, "line %d: %s vs %s" % (i + 1, u, v)
print("  largest relative difference %.3g" % worst)
PY
}

CFG="$SRC/configs/paper_two_populations.toml"
for case in 20001:paper 20001:exact 5001:exact; do
  n=${case%%:*} scheme=${case##*:}
  args=(run -c "$CFG" -s network.n=$n -s run.t_end=4 -s run.spike_neurons=400 -s "run.scheme=\"$scheme\""
    --no-meanfield -q)
  "$BIN" "${args[@]}" -b cpu -t 1 -o "$TMP/cpu" || fail "CPU backend, n = $n, $scheme"
  "$BIN" "${args[@]}" -b cuda -o "$TMP/k1" || fail "CUDA backend, one process, n = $n, $scheme"
  [ "$(wc -l <"$TMP/k1/spikes.csv")" -gt 20 ] || fail "too few spikes recorded to compare (n = $n, $scheme)"
  for k in 2 3; do
    "${MPIRUN[@]}" $k "$BIN" "${args[@]}" -b cuda -o "$TMP/k$k" || fail "mpirun -np $k -b cuda, n = $n, $scheme"
    grep -q "\"ranks\": $k" "$TMP/k$k/summary.json" || fail "summary.json does not say $k ranks"
    cmp "$TMP/k1/spikes.csv" "$TMP/k$k/spikes.csv" || fail "spikes.csv differs: 1 vs $k ranks, n = $n, $scheme"
  done
  cmp "$TMP/k2/timeseries.csv" "$TMP/k3/timeseries.csv" || fail "timeseries.csv differs: 2 vs 3 ranks, n = $n, $scheme"
  echo "n = $n, $scheme: 2 and 3 GPU ranks give byte-identical timeseries.csv; 1, 2, 3 byte-identical spikes.csv"
  near "$TMP/k2/timeseries.csv" "$TMP/k1/timeseries.csv" || fail "1 vs 2 GPU ranks: timeseries.csv differs beyond 1e-9"
  echo "n = $n, $scheme: 1 GPU process and 2 GPU ranks agree to 1e-9"
  near "$TMP/k2/timeseries.csv" "$TMP/cpu/timeseries.csv" || fail "CPU vs 2 GPU ranks: timeseries.csv differs beyond 1e-9"
  echo "n = $n, $scheme: the CPU backend and 2 GPU ranks agree to 1e-9"
  rm -rf "$TMP"/cpu "$TMP"/k1 "$TMP"/k2 "$TMP"/k3
done
