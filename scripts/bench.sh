#!/usr/bin/env bash
# Benchmarks (never part of the tests). `npm run bench:kernels [-- names...]`: every
# kernel of src/kernels/registry.inc (GEMM in GFLOP/s), natively and in wasm under
# Node, SIMD next to its scalar twin; names filter (e.g. `softmax gemm`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh all >/dev/null
echo "== native"
build/native/scripts/bench/attn_bench_kernels "${@:2}"
echo "== wasm (Node $(node --version))"
node --no-experimental-fetch build/wasm/scripts/bench/attn_bench_kernels.cjs "${@:2}"
