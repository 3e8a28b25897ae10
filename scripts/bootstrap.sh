#!/usr/bin/env bash
# Installs the Debian packages the build and tests need; skips what is present.
#   scripts/bootstrap.sh            build + native/wasm tests
#   scripts/bootstrap.sh --browser  also Chromium, for the browser tests
# Uses sudo when not root. Needs only Debian's package registry.
set -euo pipefail

packages=(cmake make g++ emscripten libxsimd-dev binaryen wabt libgtest-dev googletest nlohmann-json3-dev)
# clang and its sanitizer/libFuzzer runtimes, for the safetensors fuzzer (scripts/fuzz.sh)
packages+=(clang-14 libclang-rt-14-dev)
# real English text: the GPT-2 tokenizer fixture (scripts/fixtures/gpt2_bpe.mjs)
packages+=(fortunes)
[[ "${1:-}" == "--browser" ]] && packages+=(chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "bootstrap: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
echo "bootstrap: system packages present"
