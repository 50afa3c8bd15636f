#!/usr/bin/env bash
# The main job, offline, in about five minutes on two cores: train a small GPT
# over a byte-level BPE (the `demo` preset) on the public-domain books bundled
# in corpus/gutenberg — all but Persuasion — write a sample from a seed phrase
# and count how many of its words the training books contain, then score
# Persuasion, which the model never saw, beside bzip2 -9, xz and n-gram
# baselines on the same text.
# INKWELL_CORPUS trains on another corpus instead; INKWELL_DEMO_STEPS changes
# the number of steps; INKWELL_DEMO_OUT the run directory (default runs/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
# As `npx inkwell` starts it: through its launcher line (src/cli/launcher.ts).
inkwell() { sh dist/src/cli/main.js "$@"; }
started=$SECONDS
load_before=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')

books=corpus/gutenberg
heldout="$books/austen-persuasion.txt"
train_corpus=()
if [ -n "${INKWELL_CORPUS:-}" ]; then
  train_corpus=("$INKWELL_CORPUS")
else
  for f in "$books"/*.txt; do [ "$f" = "$heldout" ] || train_corpus+=("$f"); done
fi
out="${INKWELL_DEMO_OUT:-runs/demo}"
prompt="It was a"
rm -rf "$out"

inkwell train --preset demo --corpus "${train_corpus[@]}" ${INKWELL_DEMO_STEPS:+--steps "$INKWELL_DEMO_STEPS"} --out "$out"

echo
echo "--- sample from $out/best, seed phrase \"$prompt\" ---"
inkwell generate --model "$out/best" --prompt "$prompt" --max-new-tokens 200 --temperature 0.7 --top-k 40 --seed 1 | tee "$out/sample.txt"
echo
# The words the model wrote (the seed phrase left out), against the training books' word list.
sed "1s/^$prompt//" "$out/sample.txt" | inkwell data known-words --text - --corpus "${train_corpus[@]}"

echo
echo "--- $heldout, not trained on: bits per character on the same text ---"
inkwell eval --model "$out/best" --corpus "$heldout" --passages 0 --max-tokens 50000 --json --markdown "$out/eval.md" > "$out/eval.json"
grep '^|' "$out/eval.md"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const model = r.scores[0].bitsPerCharacter;
  const bzip2 = r.compressors.find((c) => c.name.startsWith("bzip2"));
  const verdict = !bzip2 ? "bzip2 is not installed, so there is nothing to compare with" :
    model < bzip2.bitsPerCharacter ? `below bzip2 -9 (${bzip2.bitsPerCharacter.toFixed(3)}) by ${(bzip2.bitsPerCharacter - model).toFixed(3)}` :
    `NOT below bzip2 -9 (${bzip2.bitsPerCharacter.toFixed(3)})`;
  console.log(`the model needs ${model.toFixed(3)} bits/char on ${r.data.characters.toLocaleString("en-US")} characters it never saw: ${verdict}`);
' "$out/eval.json"
echo
echo "demo finished in $((SECONDS - started)) s (load average $load_before at the start, $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?') at the end, $(nproc 2>/dev/null || echo '?') cores)"
