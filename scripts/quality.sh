#!/usr/bin/env bash
# The quality preset (issue 16), end to end: `inkwell train --preset gutenberg-quality`
# on the Gutenberg books with two held out whole — one Austen (Persuasion), one
# Chesterton (The Man Who Was Thursday) — then `inkwell eval` on those two beside
# bzip2 -9, xz -9 and the n-gram baselines, every token scored with at least 96
# tokens of context (--stride 32). About an hour on two quiet cores.
# Usage: scripts/quality.sh [OUT]   (default runs/quality; data from ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
inkwell() { node dist/src/cli/main.js "$@"; }
out="${1:-runs/quality}"
books="${INKWELL_DATA:-../shared/data}/gutenberg"
train=$(ls "$books"/*.txt | grep -v -e austen-persuasion -e chesterton-thursday)
heldout=("$books/austen-persuasion.txt" "$books/chesterton-thursday.txt")
if [ ! -d "$out/best" ]; then
  start=$(date +%s)
  # shellcheck disable=SC2086
  inkwell train --preset gutenberg-quality --corpus $train --out "$out" --force
  echo "trained in $(( $(date +%s) - start )) s" | tee "$out/wall.txt"
fi
inkwell eval --model "$out/best" --corpus "${heldout[@]}" --stride 32 --max-tokens 400000 --passages 0 --markdown "$out/heldout.md"
