#!/usr/bin/env bash
# `npm start`: install what is missing, build, serve the playground on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh all
node scripts/build_web.mjs
exec node scripts/serve.mjs "$@"
