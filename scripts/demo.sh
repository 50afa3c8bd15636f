#!/usr/bin/env bash
# The main job: train a small character-level GPT on the Project Gutenberg corpus,
# then generate text from a seed phrase with the best checkpoint.
# Corpus: $INKWELL_CORPUS, else ../shared/data/gutenberg when present, else the
# books `inkwell data download` fetches from Project Gutenberg into the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
inkwell() { node dist/src/cli/main.js "$@"; }

corpus="${INKWELL_CORPUS:-../shared/data/gutenberg}"
if [ -e "$corpus" ]; then
  corpus_args=(--corpus "$corpus")
else
  echo "no corpus at $corpus: downloading NLTK's Gutenberg selection" >&2
  inkwell data download
  corpus_args=()
fi

out="${INKWELL_DEMO_OUT:-runs/demo}"
rm -rf "$out"
inkwell train --preset char-gpt "${corpus_args[@]}" --steps "${INKWELL_DEMO_STEPS:-1500}" --eval-interval 250 --out "$out"
echo
echo "--- sample from $out/best, seed phrase \"It was a\" ---"
inkwell generate --model "$out/best" --prompt "It was a" --max-new-tokens 400 --temperature 0.8 --top-k 40 --seed 1
echo
