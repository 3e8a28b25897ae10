#!/usr/bin/env bash
# Builds the native tree (build/native), the wasm tree (build/wasm) and the npm
# package contents (dist/). Incremental; safe to re-run.
#   scripts/build.sh [native|native-march|wasm|all]   (default: all)
# native-march is the -march=native build (ATTN_NATIVE_ARCH=ON: AVX2, 8-lane kernels); the
# tests run it too so the wider code paths are exercised.
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
if [[ $what == native-march || ( $what == all && ${ATTN_TEST_NATIVE_ARCH:-0} == 1 ) ]]; then
  [[ -f build/native-march/CMakeCache.txt ]] || cmake -S . -B build/native-march -DCMAKE_BUILD_TYPE=Release \
    -DATTN_NATIVE_ARCH=ON -DATTN_BUILD_BENCH=OFF >/dev/null
  cmake --build build/native-march -j"$jobs"
fi
if [[ $what == wasm || $what == all ]]; then
  # Node 20's default flags break Emscripten's test runner; see TOOLCHAIN gotcha 11.
  [[ -f build/wasm/CMakeCache.txt ]] || emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" >/dev/null
  cmake --build build/wasm -j"$jobs"
  node scripts/package.mjs
fi
