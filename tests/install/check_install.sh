#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then configures, builds and
# runs tests/install/consumer against it with find_package(izhinet).
#   check_install.sh BUILD_DIR [CMAKE]
set -euo pipefail
BUILD=$1
CMAKE=${2:-cmake}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/izhinet_install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$CMAKE" --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.log"
test -x "$WORK/prefix/bin/izhinet"
test -f "$WORK/prefix/include/izhinet/params.hpp"
"$WORK/prefix/bin/izhinet" --version
"$CMAKE" -S "$HERE/consumer" -B "$WORK/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  >"$WORK/configure.log" || { cat "$WORK/configure.log"; exit 1; }
"$CMAKE" --build "$WORK/consumer" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
"$WORK/consumer/consumer"
