#!/usr/bin/env bash
# What a CPU target (IZHINET_ARCH) costs: the CPU engine built for each
# target, timed in one invocation, interleaved.
#
#   tools/bench_arch.sh                      # ARCHES="portable native x86-64-v2"
#   ARCHES="portable native" SIZES="1e5" tools/bench_arch.sh
#
# 1. builds bench_cpu for every target in build-arch-<target>/ (Release, no CUDA);
# 2. for every (N, threads), runs the binaries in turn, ROUNDS times
#    (A B C A B C ...), each run `bench_cpu --reps 1` (engine and ceiling loop,
#    each at least --min-time seconds);
# 3. prints a markdown table: best engine rate of each target, and the median
#    over rounds of its ratio to the first target's rate in the same round.
# Also says whether the engine's paper loop is vectorised (ymm instructions)
# in each build. Environment: ARCHES, SIZES (1e4,1e5,1e6), THREADS (1,2),
# ROUNDS (5), MIN_TIME (0.3).
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHES=${ARCHES:-"portable native x86-64-v2"}
SIZES=${SIZES:-1e4,1e5,1e6}
THREADS=${THREADS:-1,2}
ROUNDS=${ROUNDS:-5}
MIN_TIME=${MIN_TIME:-0.3}
WORK=$(mktemp -d /tmp/izhinet_arch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for a in $ARCHES; do
  echo "== build bench_cpu, IZHINET_ARCH=$a (build-arch-$a)"
  cmake -S . -B "build-arch-$a" -DCMAKE_BUILD_TYPE=Release -DIZHINET_CUDA=OFF -DIZHINET_TESTS=OFF \
    -DIZHINET_BENCHMARKS=ON -DIZHINET_ARCH="$a" >"$WORK/cfg-$a.log"
  grep "izhinet: CPU target" "$WORK/cfg-$a.log" | sed 's/^-- //'
  cmake --build "build-arch-$a" -j2 --target bench_cpu >/dev/null
  # the engine's paper-scheme loop (step_range<false>, inlined into run_region's lambda)
  ymm=$(objdump -d --no-show-raw-insn -C "build-arch-$a/benchmarks/bench_cpu" |
    awk '/cpu_backend::run_region.*lambda\(int\)#1\}::operator\(\)\(int\) const>:$/,/^$/' | grep -c ymm || true)
  echo "$a $ymm" >>"$WORK/ymm.txt"
done

IFS=, read -r -a sizes <<<"$SIZES"
IFS=, read -r -a threads <<<"$THREADS"
for n in "${sizes[@]}"; do
  for t in "${threads[@]}"; do
    for ((k = 0; k < ROUNDS; ++k)); do
      for a in $ARCHES; do
        rate=$("build-arch-$a/benchmarks/bench_cpu" --sizes "$n" --threads "$t" --reps 1 --min-time "$MIN_TIME" |
          awk '$1 ~ /^[0-9]+$/ {print $4}')
        echo "$n $t $k $a $rate" | tee -a "$WORK/rates.txt"
      done
    done
  done
done

python3 - "$WORK" "$ARCHES" <<'EOF'
import statistics, sys
work, arches = sys.argv[1], sys.argv[2].split()
rows = [l.split() for l in open(f"{work}/rates.txt")]
ymm = dict(l.split() for l in open(f"{work}/ymm.txt"))
base = arches[0]
print()
print("| N | threads | " + " | ".join(f"{a} (neuron-steps/s)" for a in arches) + " | " +
      " | ".join(f"{a} / {base}" for a in arches[1:]) + " |")
print("|---:|---:|" + "---:|" * (2 * len(arches) - 1))
keys = sorted({(float(r[0]), int(r[1])) for r in rows})
for n, t in keys:
    sel = [r for r in rows if float(r[0]) == n and int(r[1]) == t]
    best = {a: max(float(r[4]) for r in sel if r[3] == a) for a in arches}
    ratios = {}
    for a in arches[1:]:
        per_round = []
        for k in {r[2] for r in sel}:
            ra = [float(r[4]) for r in sel if r[2] == k and r[3] == a]
            rb = [float(r[4]) for r in sel if r[2] == k and r[3] == base]
            if ra and rb:
                per_round.append(ra[0] / rb[0])
        ratios[a] = statistics.median(per_round)
    print(f"| {n:.0e} | {t} | " + " | ".join(f"{best[a]:.3g}" for a in arches) + " | " +
          " | ".join(f"{ratios[a]:.3f}" for a in arches[1:]) + " |")
print()
print("ymm (AVX) instructions in the engine's paper loop: " + ", ".join(f"{a}: {ymm[a]}" for a in arches))
EOF
