#!/usr/bin/env bash
# The test suite: install what is missing, build (warnings are errors), run CTest.
# GPU tests (label gpu) skip with a message where there is no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
IZHINET_NO_PYTHON=${IZHINET_NO_PYTHON:-1} bash tools/setup.sh
bash tools/build.sh -DIZHINET_WERROR=ON
cd build
ctest --output-on-failure --timeout 600 -j1 "$@"
