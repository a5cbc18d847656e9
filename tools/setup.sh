#!/usr/bin/env bash
# Installs what izhinet needs (idempotent, quiet). Never uses pip on the system
# Python and never assumes sudo:
#
# - Debian/Ubuntu with apt usable (root, or sudo without a password): the
#   build packages below (HDF5 included) and Debian's Python packages
#   (python3-dev, -venv, -numpy, -matplotlib, -scipy, -pytest, -h5py).
# - Otherwise (an HPC login node, no root): nothing is installed system-wide.
#   Missing build tools are listed with what to load instead (see
#   docs/building.md).
#
# The Python module (docs/python.md) and its tests use a virtual environment,
# .venv/ in the repository (IZHINET_VENV to put it elsewhere). With apt it is
# made from Debian's /usr/bin/python3 with --system-site-packages, so that
# Debian's numpy, scipy, matplotlib, pytest and h5py are used, and only the
# build tools of the module come from PyPI (nanobind, scikit-build-core);
# without apt every package goes into it from PyPI. tools/main_job.sh and
# the test suite use it.
#
# Environment: IZHINET_NO_PYTHON=1 skips Python altogether (the C++ tests need
# none; the Python tests then skip, saying why); IZHINET_NO_APT=1 never calls
# apt (as without root); IZHINET_PYTHON is the interpreter the virtual
# environment is made from (default: /usr/bin/python3 with apt, else python3);
# IZHINET_SLURM=1 also installs Debian's slurm-wlm and munge (only tools/slurm/selftest.sh needs them).
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
  libhdf5-dev
)
# Figures, tools, the Python module and its tests (Debian's own packages, not pip).
PYTHON_PKGS=(
  python3
  python3-dev
  python3-venv
  python3-numpy
  python3-matplotlib
  python3-scipy
  python3-pytest
  python3-h5py
)
VENV=${IZHINET_VENV:-.venv}
# Build tools of the Python module (PyPI only; pyproject.toml asks for the same).
VENV_BUILD_PKGS=("nanobind>=2.0" "scikit-build-core>=0.10")

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

# ---- Python: a virtual environment for the tools, the module and its tests ---
if [ "${IZHINET_NO_PYTHON:-0}" != "1" ]; then
  if [ -n "$APT" ]; then
    mapfile -t need < <(missing_debs "${PYTHON_PKGS[@]}")
    if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
    PY=${IZHINET_PYTHON:-/usr/bin/python3}
    SITE=(--system-site-packages)  # Debian's numpy, scipy, matplotlib, pytest, h5py
    VENV_PKGS=("${VENV_BUILD_PKGS[@]}")
  else
    PY=${IZHINET_PYTHON:-python3}
    SITE=()
    VENV_PKGS=(numpy matplotlib scipy pytest h5py "${VENV_BUILD_PKGS[@]}")
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating the virtual environment $VENV from $PY"
    if ! "$PY" -m venv "${SITE[@]}" "$VENV" >/dev/null 2>&1; then
      echo "setup: '$PY -m venv' failed (on Debian it needs python3-venv). Without root: load a Python module"
      echo "setup: that provides venv (e.g. 'module load python'), or set IZHINET_PYTHON to one, then rerun."
      echo "setup: The simulator itself needs no Python; without the environment the Python tests skip."
      exit 1
    fi
  fi
  # What the environment lacks (import names: nanobind, scikit_build_core, ...).
  missing_py=()
  for spec in "${VENV_PKGS[@]}"; do
    mod=${spec%%[<>=]*}
    mod=${mod//-/_}
    "$VENV/bin/python" -c "import $mod" >/dev/null 2>&1 || missing_py+=("$spec")
  done
  if [ ${#missing_py[@]} -gt 0 ]; then
    echo "setup: installing ${missing_py[*]} into $VENV (pip, PyPI)"
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing_py[@]}"; then
      echo "setup: pip could not install ${missing_py[*]} into $VENV; the Python module is not built and its"
      echo "setup: tests skip (the C++ build and tests do not need it)."
    fi
  fi
fi
