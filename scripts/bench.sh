#!/usr/bin/env bash
# Benchmarks (never part of the tests).
#   npm run bench [-- --rounds N --filter mha,gpt ...]: this package against onnxruntime-web and
#     tfjs-wasm on the same weights, outputs checked against PyTorch, medians of fresh-process
#     rounds, the wasm SIMD peak as the ceiling; table, scripts/bench/results/latest.{json,svg}
#     (scripts/bench/run.mjs; scripts/bench/README.md says what it measures).
#   npm run bench:kernels [-- names...]: every kernel of src/kernels/registry.inc (GEMM in
#     GFLOP/s), natively and in wasm under Node, SIMD next to its scalar twin; names filter
#     (e.g. `softmax gemm`).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs
if [[ ${1:-} == kernels ]]; then
  bash scripts/build.sh all >/dev/null
  echo "== native"
  build/native/scripts/bench/attn_bench_kernels "${@:2}"
  echo "== wasm (Node $(node --version))"
  node --no-experimental-fetch build/wasm/scripts/bench/attn_bench_kernels.cjs "${@:2}"
  exit
fi
[[ -d node_modules/onnxruntime-web && -d node_modules/@tensorflow/tfjs-backend-wasm ]] || npm ci --no-audit --no-fund
bash scripts/build.sh wasm >/dev/null
# The native GPT timings: only the benchmark target of the native tree.
[[ -f build/native/CMakeCache.txt ]] || cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native -j"$(nproc 2>/dev/null || echo 2)" --target attn_bench_models >/dev/null
node scripts/bench/run.mjs "$@"
