#!/usr/bin/env bash
# gpu_check.sh: the one script to run on the GPU machine.
#   OUT=/some/dir tools/gpu_check.sh      (default OUT=./gpu-out)
# Configures a CUDA build (sm_90) in build-gpu, builds with -j16, records
# nvidia-smi, runs the GPU tests (CUDA backend vs CPU reference), a quick pass
# of the CPU tests, and bench_cuda. Everything (logs, the markdown table,
# summary.txt) goes under $OUT. Aims at < 6 minutes; exits non-zero when a
# stage failed, after printing the summary.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=${BUILD:-build-gpu}
JOBS=${JOBS:-16}
export PATH="/usr/local/cuda/bin:$PATH"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
FAILED=0
T0=$(date +%s)

say() { echo "[gpu_check +$(( $(date +%s) - T0 ))s] $*" | tee -a "$SUMMARY"; }
# stage NAME LOG TIMEOUT_S CMD...: run, log, record PASS/FAIL in the summary.
stage() {
  local name=$1 log=$2 limit=$3
  shift 3
  local t=$(date +%s)
  if timeout "$limit" "$@" > "$OUT/$log" 2>&1; then
    say "PASS  $name ($(( $(date +%s) - t ))s, log $log)"
  else
    local rc=$?
    FAILED=1
    say "FAIL  $name (exit $rc$( [ $rc = 124 ] && echo ', timed out'), $(( $(date +%s) - t ))s, log $log)"
    tail -n 25 "$OUT/$log" | sed 's/^/      /' | tee -a "$SUMMARY"
  fi
}

say "izhinet GPU check, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), output in $OUT"

# ---- 1. dependencies (headers only; install quietly when missing) ---------
missing=()
[ -f /usr/include/spdlog/spdlog.h ] || missing+=(libspdlog-dev)
[ -f /usr/include/cxxopts.hpp ] || missing+=(libcxxopts-dev)
pkg-config --exists tomlplusplus 2>/dev/null || missing+=(libtomlplusplus-dev)
[ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
# GPU ranks (tests/gpu/check_gpu_ranks.sh, mpi_gpu_ranks_match) need MPI at configure time and mpirun.
command -v mpirun > /dev/null || missing+=(openmpi-bin libopenmpi-dev)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  if command -v apt-get > /dev/null; then
    say "installing ${missing[*]}"
    # (bounded: a machine without a network must not spend its device time here)
    (timeout 60 $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 180 $SUDO apt-get install -y -qq "${missing[@]}") \
      > "$OUT/apt.log" 2>&1 || say "WARN  apt-get failed (see apt.log); trying with what is present"
  else
    say "WARN  missing ${missing[*]} and no apt-get; trying with what is present"
  fi
fi

# ---- 2. the device ---------------------------------------------------------
if command -v nvidia-smi > /dev/null; then
  nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
  say "device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
else
  say "WARN  nvidia-smi not found"
fi
say "nvcc: $(nvcc --version 2>/dev/null | tail -1)"

# ---- 3. configure and build -------------------------------------------------
stage "configure (sm_90, Release)" configure.log 180 \
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DIZHINET_WERROR=OFF \
  -DIZHINET_CUDA=ON -DIZHINET_TESTS=ON -DIZHINET_BENCHMARKS=ON
stage "build (-j$JOBS)" build.log 300 cmake --build "$BUILD" -j "$JOBS"
grep -E "warning" "$OUT/build.log" | sort -u | head -20 > "$OUT/build_warnings.txt"
[ -s "$OUT/build_warnings.txt" ] && say "note  $(wc -l < "$OUT/build_warnings.txt") distinct warning lines (build_warnings.txt)"

# ---- 4. tests ----------------------------------------------------------------
if [ -x "$BUILD/tests/izhinet_gpu_tests" ]; then
  # The tests are independent processes; their CPU reference runs dominate.
  stage "GPU tests (ctest -L gpu)" ctest_gpu.log 240 \
    ctest --test-dir "$BUILD" -L gpu --output-on-failure -j 8 --timeout 200
  grep -E "tests passed|\*\*\*Failed|\(Failed\)|\(Timeout\)" "$OUT/ctest_gpu.log" | head -30 | sed 's/^/      /' |
    tee -a "$SUMMARY"
  # The GPU-ranks test also needs MPI and mpirun: without them it skips, which says nothing about the device.
  if grep -q "mpi_gpu_ranks_match.*Skipped" "$OUT/ctest_gpu.log"; then
    say "WARN  mpi_gpu_ranks_match (GPU ranks over MPI) skipped: $(grep -E -m1 'SKIPPED' "$OUT/ctest_gpu.log" || echo 'see ctest_gpu.log')"
  fi
  # Other skipped GPU tests on a GPU machine mean the device was not usable: a failure here.
  if grep -v "mpi_gpu_ranks_match" "$OUT/ctest_gpu.log" | grep -q "Skipped"; then
    FAILED=1
    why=$("$BUILD/tests/izhinet_gpu_tests" --gtest_filter=cuda_backend.misuse_throws_cleanly 2>&1 |
      grep -m1 -A1 'Skipped$' | tail -1)
    say "FAIL  GPU tests were skipped on the GPU machine: $why"
  fi
else
  say "FAIL  izhinet_gpu_tests was not built"
  FAILED=1
fi
if [ "${SKIP_CPU_TESTS:-0}" != 1 ] && [ -x "$BUILD/tests/izhinet_tests" ]; then
  stage "CPU tests (ctest -L cpu)" ctest_cpu.log 120 \
    ctest --test-dir "$BUILD" -L cpu --output-on-failure -j 8 --timeout 100
  grep -E "tests passed" "$OUT/ctest_cpu.log" | sed 's/^/      /' | tee -a "$SUMMARY"
fi

# ---- 5. benchmark ------------------------------------------------------------
if [ -x "$BUILD/benchmarks/bench_cuda" ]; then
  stage "bench_cuda" bench_cuda.log 200 "$BUILD/benchmarks/bench_cuda" "$OUT/bench_cuda.md" 0.5
  [ -f "$OUT/bench_cuda.md" ] && sed 's/^/      /' "$OUT/bench_cuda.md" | tee -a "$SUMMARY"
else
  say "FAIL  bench_cuda was not built"
  FAILED=1
fi

say "total $(( $(date +%s) - T0 ))s; $( [ $FAILED = 0 ] && echo 'ALL STAGES PASSED' || echo 'SOME STAGES FAILED' )"
echo
echo "================ summary ($SUMMARY) ================"
cat "$SUMMARY"
exit $FAILED
