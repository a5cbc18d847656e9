#!/usr/bin/env bash
# Installs what izhinet needs (idempotent, quiet). Never uses pip on the system
# Python and never assumes sudo:
#
# - Debian/Ubuntu with apt usable (root, or sudo without a password): the
#   build packages below and Debian's python3-numpy/matplotlib/scipy.
# - Otherwise (an HPC login node, no root): nothing is installed system-wide.
#   Missing build tools are listed with what to load instead (see
#   docs/building.md); the Python packages for the figures go into a virtual
#   environment, .venv/ in the repository (IZHINET_VENV to put it elsewhere),
#   which tools/main_job.sh then uses.
#
# Environment: IZHINET_NO_PYTHON=1 skips the Python packages (the test suite
# needs none); IZHINET_NO_APT=1 never calls apt (as without root);
# IZHINET_PYTHON is the interpreter to check (default python3); IZHINET_SLURM=1
# also installs Debian's slurm-wlm and munge (only tools/slurm/selftest.sh needs them).
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, CMake, OpenMP (with g++), spdlog, cxxopts, toml++, nlohmann-json (every JSON
# output), OpenSSL libcrypto (SHA-256 of the configuration in the provenance), GoogleTest, Google Benchmark,
# Open MPI (optional at build time: one network or one study over several processes, docs/mpi.md).
BUILD_PKGS=(
  cmake
  g++
  make
  pkg-config
  git
  libspdlog-dev
  libcxxopts-dev
  libtomlplusplus-dev
  nlohmann-json3-dev
  libssl-dev
  libgtest-dev
  libbenchmark-dev
  libeigen3-dev
  libopenmpi-dev
  openmpi-bin
)
# Figures and tools: numpy, matplotlib, scipy (Debian's own packages, not pip).
PYTHON_PKGS=(
  python3
  python3-venv
  python3-numpy
  python3-matplotlib
  python3-scipy
)
PY=${IZHINET_PYTHON:-python3}
VENV=${IZHINET_VENV:-.venv}

# apt is usable when it exists and we are root or have password-less sudo.
APT=""
if [ "${IZHINET_NO_APT:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    APT="apt-get"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    APT="sudo -n apt-get"
  fi
fi

missing_debs() {  # packages of "$@" that dpkg does not report installed
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"
  done
}

apt_install() {
  echo "setup: installing $* (apt)"
  # another apt (e.g. unattended upgrades) may hold the lock: wait for it
  $APT -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $APT -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

# ---- build dependencies ------------------------------------------------------
if [ -n "$APT" ]; then
  mapfile -t need < <(missing_debs "${BUILD_PKGS[@]}")
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
else
  # No apt (or no right to use it): say what is missing; the CMake
  # configure step names any library it cannot find.
  miss=()
  command -v cmake >/dev/null 2>&1 || miss+=("cmake >= 3.24")
  command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || miss+=("a C++17 compiler with OpenMP (g++ >= 9)")
  if command -v dpkg >/dev/null 2>&1; then
    mapfile -t debs < <(missing_debs "${BUILD_PKGS[@]}")
    [ ${#debs[@]} -eq 0 ] || miss+=("Debian packages not installed: ${debs[*]}")
  fi
  if [ ${#miss[@]} -gt 0 ]; then
    echo "setup: cannot install system packages here (not root, no password-less sudo, or IZHINET_NO_APT=1)."
    printf 'setup:   missing: %s\n' "${miss[@]}"
    echo "setup: load them from your module system or a user prefix; docs/building.md lists the packages,"
    echo "setup: versions and the cmake -D options that point the build at them. Continuing."
  fi
fi

# ---- optional: a local Slurm for tools/slurm/selftest.sh ----------------------
if [ "${IZHINET_SLURM:-0}" = "1" ]; then
  if [ -n "$APT" ]; then
    mapfile -t need < <(missing_debs slurm-wlm munge)
    if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
  else
    echo "setup: IZHINET_SLURM=1 needs apt (root or password-less sudo): install slurm-wlm and munge yourself"
  fi
fi

# ---- Python packages for the figures -----------------------------------------
if [ "${IZHINET_NO_PYTHON:-0}" != "1" ]; then
  if "$PY" -c "import numpy, matplotlib, scipy" >/dev/null 2>&1; then
    :
  elif [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import numpy, matplotlib, scipy" >/dev/null 2>&1; then
    echo "setup: Python tools use $VENV/bin/python"
  elif [ -n "$APT" ] && { ! command -v "$PY" >/dev/null 2>&1 ||
    [ "$("$PY" -c 'import sys; print(sys.prefix)' 2>/dev/null)" = "/usr" ]; }; then
    # Debian's own Python (or none yet): Debian's packages.
    mapfile -t need < <(missing_debs "${PYTHON_PKGS[@]}")
    if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
  else
    # Not the Debian system Python, or no apt: a virtual environment, never the system site-packages.
    echo "setup: installing numpy, matplotlib, scipy into the virtual environment $VENV"
    if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
      echo "setup: '$PY -m venv' failed (on Debian it needs python3-venv). Without root: load a Python module"
      echo "setup: that provides venv (e.g. 'module load python'), or set IZHINET_PYTHON to a Python that has"
      echo "setup: numpy, matplotlib and scipy, then rerun. The simulator itself needs no Python."
      exit 1
    fi
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q numpy matplotlib scipy
    echo "setup: Python tools use $VENV/bin/python"
  fi
fi
