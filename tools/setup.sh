#!/usr/bin/env bash
# Installs what izhinet needs on a fresh Debian machine (idempotent, quiet).
# Build: cmake, g++, OpenMP, spdlog, cxxopts, toml++, Eigen, GoogleTest, Google Benchmark.
# Tools: numpy, matplotlib (figures), scipy (mean-field speed comparison).
set -euo pipefail
need=()
for pkg in cmake g++ make pkg-config libspdlog-dev libcxxopts-dev libtomlplusplus-dev libgtest-dev libbenchmark-dev libeigen3-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "${IZHINET_NO_PYTHON:-0}" != "1" ]; then
  if ! python3 -c "import numpy, matplotlib, scipy" >/dev/null 2>&1; then
    echo "setup: installing numpy, matplotlib, scipy (pip)"
    python3 -m pip install -q numpy matplotlib scipy
  fi
fi
