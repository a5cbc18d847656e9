#!/usr/bin/env bash
# Configures and builds izhinet into build/ (Release). The CUDA backend is
# compiled whenever nvcc is found. Extra arguments go to cmake, e.g.
#   bash tools/build.sh -DIZHINET_ARCH=native -DCMAKE_CUDA_ARCHITECTURES=90
# Prints what the configure step found (CPU target, CUDA, version); the full
# CMake output is in build/configure.log and is shown when configuring fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
mkdir -p build
if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >build/configure.log 2>&1; then
  cat build/configure.log
  echo "build: configuring failed (output above; docs/building.md says what the build needs)"
  exit 1
fi
awk '/^-- izhinet:/ {sub(/^-- /, ""); print} /^CMake Warning/ {w = 1} w {print} w && /^$/ {w = 0}' build/configure.log
cmake --build build -j"$(nproc)"
