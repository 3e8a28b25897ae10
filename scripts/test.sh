#!/usr/bin/env bash
# `npm test`: builds everything and runs every test suite.
#   1. native GoogleTest (ctest, build/native)
#   1b. the same suite built with -march=native (the 8-lane AVX2 kernels), when the CPU has AVX2
#   2. the same GoogleTest suite compiled to wasm, under Node, plus the SIMD check of the shipped .wasm
#   3. JS tests (node:test) against the packed npm tarball installed into a temporary project
#   4. browser tests in Debian's Chromium via playwright-core
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --browser
[[ -d node_modules/playwright-core && -x node_modules/.bin/vite && -d node_modules/typescript ]] || npm ci --no-audit --no-fund
bash scripts/build.sh all
node scripts/build_web.mjs
march=0
grep -qw avx2 /proc/cpuinfo 2>/dev/null && march=1 && bash scripts/build.sh native-march

export GTEST_BRIEF=1 GTEST_COLOR=no
ctest_noise='^(UpdateCTestConfiguration|Test project|Constructing|Checking|Parse|Added test|Test command|Environment|Start|test [0-9]+$)'
echo "== native GoogleTest"
ATTN_PARITY_OUT="$PWD/build/native/parity.safetensors" ctest --test-dir build/native --output-on-failure -V | grep -vE "$ctest_noise" || exit 1
if ((march)); then
  echo "== native GoogleTest, -march=native"
  ctest --test-dir build/native-march --output-on-failure -V | grep -vE "$ctest_noise" || exit 1
fi
# The safetensors parser under libFuzzer (clang, ASan + UBSan) for a short fixed
# time, from the committed seed corpus (scripts/fuzz.sh; build/fuzz).
echo "== safetensors fuzzer (libFuzzer, ASan+UBSan)"
bash scripts/fuzz.sh 30
echo "== wasm GoogleTest (Node) + SIMD check"
ctest --test-dir build/wasm --output-on-failure -V | grep -vE "$ctest_noise" || exit 1
if compgen -G "tests/js/*.test.mjs" >/dev/null; then
  echo "== JS package tests + browser tests"
  node scripts/pack_for_tests.mjs
  node --test --test-concurrency=1 tests/js/ tests/e2e/
fi
