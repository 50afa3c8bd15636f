#!/usr/bin/env bash
# The main job: train a small character-level GPT on the Project Gutenberg corpus,
# then generate text from a seed phrase with the best checkpoint.
# Corpus: $INKWELL_CORPUS, else ../shared/data/gutenberg when present, else the
# books `inkwell data download` put in the cache, else the books bundled in corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
inkwell() { node dist/src/cli/main.js "$@"; }

out="${INKWELL_DEMO_OUT:-runs/demo}"
rm -rf "$out"
inkwell train --preset char-gpt --steps "${INKWELL_DEMO_STEPS:-1500}" --eval-interval 250 --out "$out"
echo
echo "--- sample from $out/best, seed phrase \"It was a\" ---"
inkwell generate --model "$out/best" --prompt "It was a" --max-new-tokens 400 --temperature 0.8 --top-k 40 --seed 1
echo
