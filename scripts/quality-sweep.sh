#!/usr/bin/env bash
# The quality sweep (issue 16): GPT sizes over a 4,096-token BPE, each trained
# for about the same wall time on the Gutenberg books with two held out whole
# (Austen's Persuasion, Chesterton's The Man Who Was Thursday), then scored on
# them by `inkwell eval` beside bzip2, xz and Kneser-Ney. Run on a quiet
# machine: the step counts below fill ~12 minutes each on 2 AVX-512 cores.
# Usage: scripts/quality-sweep.sh [OUT]   (default runs/quality-sweep; data from ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
inkwell() { node dist/src/cli/main.js "$@"; }
out="${1:-runs/quality-sweep}"
books="${INKWELL_DATA:-../shared/data}/gutenberg"
mkdir -p "$out"
train=$(ls "$books"/*.txt | grep -v -e austen-persuasion -e chesterton-thursday)
heldout=("$books/austen-persuasion.txt" "$books/chesterton-thursday.txt")
# name:steps — steps chosen from each model's measured tokens/s so the runs take about the same time.
for run in c-4x128-bpe4k:1600 a-4x256-bpe4k:1200 b-6x384-bpe4k:800; do
  name=${run%%:*}; steps=${run##*:}
  if [ ! -f "$out/$name/eval.json" ]; then
    start=$(date +%s)
    # shellcheck disable=SC2086
    inkwell train --preset bpe-gpt --config "scripts/quality-sweep/$name.json" --steps "$steps" --eval-interval 200 --corpus $train --out "$out/$name" --force
    echo "$name: trained in $(( $(date +%s) - start )) s" | tee "$out/$name/wall.txt"
    inkwell eval --model "$out/$name/best" --corpus "${heldout[@]}" --max-tokens 400000 --passages 0 --json > "$out/$name/eval.json"
  fi
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(process.argv[2], JSON.stringify(r.model ?? r).slice(0, 400));' "$out/$name/eval.json" "$name"
done
