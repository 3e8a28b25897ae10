#!/usr/bin/env bash
# Builds the safetensors libFuzzer target (clang++-14, ASan + UBSan; tests/fuzz)
# and runs it for a fixed time on a copy of the committed seed corpus, so the
# repository is never modified. Exits non-zero on any crash, sanitizer report,
# leak, timeout or out-of-memory.
#   scripts/fuzz.sh [seconds]        default 30
#   ATTN_FUZZ_BUILD=dir              build directory (default build/fuzz; incremental)
# A failing input is kept in <build>/artifacts/; replay it with
#   <build>/safetensors_fuzz <build>/artifacts/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=${ATTN_FUZZ_BUILD:-build/fuzz}

[[ -f "$build/CMakeCache.txt" ]] || cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$build" -j2 >/dev/null

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/safetensors/* "$corpus/"
mkdir -p "$build/artifacts"
log="$build/safetensors_fuzz.log"
# -rss_limit_mb: the parser's budget is 64 MiB per tensor (set in the target), so
# 2 GiB means a leak or a missed check. -timeout: one input may take at most 10 s.
if ! "$build/safetensors_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
    -dict=tests/fuzz/safetensors.dict -artifact_prefix="$build/artifacts/" -print_final_stats=1 \
    "$corpus" >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "fuzz: safetensors_fuzz found a failure (log: $log, input in $build/artifacts/)" >&2
  exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: safetensors_fuzz ran ${runs:-?} inputs in ${seconds} s, no failure (log: $log)"
