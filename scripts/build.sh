#!/usr/bin/env bash
# Builds the native tree (build/native), the wasm tree (build/wasm) and the npm
# package contents (dist/). Incremental; safe to re-run.
#   scripts/build.sh [native|wasm|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
jobs=$(nproc 2>/dev/null || echo 2)
# em++ needs acorn from Debian's node-acorn (shared TOOLCHAIN notes, gotcha 1).
export NODE_PATH=/usr/share/nodejs

if [[ $what == native || $what == all ]]; then
  [[ -f build/native/CMakeCache.txt ]] || cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/native -j"$jobs"
fi
if [[ $what == wasm || $what == all ]]; then
  # Node 20's default flags break Emscripten's test runner; see TOOLCHAIN gotcha 11.
  [[ -f build/wasm/CMakeCache.txt ]] || emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" >/dev/null
  cmake --build build/wasm -j"$jobs"
  node scripts/package.mjs
fi
