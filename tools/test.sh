#!/usr/bin/env bash
# The test suite: install what is missing, build (warnings are errors), run CTest.
# GPU tests (label gpu) skip with a message where there is no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# Style: clang-format on every .hpp/.cpp/.cu/.cuh (docs/development.md, .clang-format).
if command -v clang-format >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
  if ! git ls-files '*.hpp' '*.cpp' '*.cu' '*.cuh' | xargs clang-format --dry-run -Werror 2>/tmp/izhinet_format.log; then
    echo "format check failed (run: clang-format -i on the files below):"; grep -o '^[^:]*' /tmp/izhinet_format.log | sort -u
    exit 1
  fi
  echo "format check: ok"
fi
bash tools/build.sh -DIZHINET_WERROR=ON
cd build
ctest --output-on-failure --timeout 600 -j1 "$@"
