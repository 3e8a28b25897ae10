#!/usr/bin/env bash
# Retrains the models the page ships (web/models/*) with the native trainers
# (scripts/train/*.cpp): each command is the one its MODEL_CARD.md states.
# Deterministic for the seeds below; each run takes minutes on one core.
#   scripts/train.sh [induction-2l|fortunes-char|brackets-encoder|dates-transformer ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh native
train=build/native/scripts/train/attn_train
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(induction-2l fortunes-char brackets-encoder dates-transformer)
for m in "${models[@]}"; do
  case $m in
    induction-2l)
      $train --task induction --layers 2 --heads 2 --d-model 64 --mlp-width 16 --context 31 --vocab 32 \
        --batch 32 --steps 1000 --lr 0.003 --warmup 50 --seed 1337 --clip-norm 1 --out web/models/induction-2l ;;
    fortunes-char)
      $train --task char-lm --layers 4 --heads 4 --d-model 128 --context 128 --vocab 96 \
        --batch 16 --steps 1500 --lr 0.002 --warmup 75 --seed 1337 --clip-norm 1 --out web/models/fortunes-char ;;
    brackets-encoder)
      build/native/scripts/train/train_brackets --layers 3 --lr 0.002 --steps 6000 --warmup 300 --seed 1337 \
        --out web/models/brackets-encoder ;;
    dates-transformer)
      build/native/scripts/train/train_dates --steps 12000 --lr 0.002 --warmup 300 --seed 1337 \
        --out web/models/dates-transformer ;;
    *) echo "unknown model '$m' (induction-2l, fortunes-char, brackets-encoder, dates-transformer)" >&2; exit 1 ;;
  esac
done
