#!/usr/bin/env bash
# `npm test`: builds everything and runs every test suite.
#   1. native GoogleTest (ctest, build/native)
#   2. the same GoogleTest suite compiled to wasm, under Node, plus the SIMD check of the shipped .wasm
#   3. JS tests (node:test) against the packed npm tarball installed into a temporary project
#   4. browser tests in Debian's Chromium via playwright-core
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --browser
[[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund
bash scripts/build.sh all

export GTEST_BRIEF=1 GTEST_COLOR=no
echo "== native GoogleTest"
ATTN_PARITY_OUT="$PWD/build/native/parity.safetensors" ctest --test-dir build/native --output-on-failure -V | grep -vE '^(UpdateCTestConfiguration|Test project|Constructing|Checking|Parse|Added test|Test command|Environment|Start|test [0-9]+$)' || exit 1
echo "== wasm GoogleTest (Node) + SIMD check"
ctest --test-dir build/wasm --output-on-failure -V | grep -vE '^(UpdateCTestConfiguration|Test project|Constructing|Checking|Parse|Added test|Test command|Environment|Start|test [0-9]+$)' || exit 1
if compgen -G "tests/js/*.test.mjs" >/dev/null; then
  echo "== JS package tests + browser tests"
  node scripts/pack_for_tests.mjs
  node --test --test-concurrency=1 tests/js/ tests/e2e/
fi
