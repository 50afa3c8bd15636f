#!/usr/bin/env bash
# The SST-2 transfer study (issue 6), end to end, about 80 minutes on two cores:
#   1. pretrain a 4×128 GPT (4,096-token BPE) on the Gutenberg books, Hamlet held out;
#   2. adapt it as a language model to SST-2's training sentences (ULMFiT's second stage:
#      unlabelled in-domain text);
#   3. train sentiment classifiers on SST-2 and score them on its dev set: from the
#      adapted model (full, LoRA, frozen), from the pretrained model alone (full), and
#      the same architecture from scratch (full).
# Usage: scripts/sst2.sh [OUT]   (default runs/sst2-study; data from ../shared/data)
#   BASE=DIR   start from this pretrained model instead of step 1 (e.g. runs/quality/best,
#              the gutenberg-quality preset's model from scripts/quality.sh)
#   RUNS="..." the classifiers to train (default: all five below)
set -euo pipefail
cd "$(dirname "$0")/.."
inkwell() { node dist/src/cli/main.js "$@"; }

out="${1:-runs/sst2-study}"
data="${INKWELL_DATA:-../shared/data}"
sst="$data/sentiment/SST-2"
mkdir -p "$out"

base="${BASE:-$out/pretrain/best}"
if [ -z "${BASE:-}" ] && [ ! -d "$out/pretrain/best" ]; then
  books=$(ls "$data"/gutenberg/*.txt | grep -v shakespeare-hamlet)
  # shellcheck disable=SC2086
  inkwell train --preset transfer-gpt --steps 6000 --eval-interval 500 --corpus $books --out "$out/pretrain"
fi
if [ ! -d "$out/lm/best" ]; then
  tail -n +2 "$sst/train.tsv" | cut -f1 > "$out/sst2-train-text.txt"
  inkwell finetune --from "$base" --corpus "$out/sst2-train-text.txt" --steps 1000 --lr 1e-3 --eval-interval 100 --out "$out/lm"
fi

common=(--train "$sst/train.tsv" --eval "$sst/dev.tsv" --max-length 64 --batch-size 32 --steps 2000 --eval-interval 200 --patience 4 --lr 5e-4)
runs="${RUNS:-adapted-full pretrained-full scratch adapted-lora adapted-frozen}"
for run in $runs; do
  [ -f "$out/$run/classify_report.md" ] && continue
  case $run in
    adapted-full)    inkwell classify train --from "$out/lm/best" "${common[@]}" --method full --freeze-steps 100 --out "$out/$run" ;;
    pretrained-full) inkwell classify train --from "$base" "${common[@]}" --method full --freeze-steps 100 --out "$out/$run" ;;
    scratch)         inkwell classify train --from "$out/lm/best" "${common[@]}" --method full --scratch --out "$out/$run" ;;
    adapted-lora)    inkwell classify train --from "$out/lm/best" "${common[@]}" --method lora --lr 2e-3 --out "$out/$run" ;;
    adapted-frozen)  inkwell classify train --from "$out/lm/best" "${common[@]}" --method frozen --lr 2e-3 --steps 1000 --out "$out/$run" ;;
    *) echo "scripts/sst2.sh: unknown run '$run' in RUNS" >&2; exit 1 ;;
  esac
done
for run in $runs; do
  echo "$run: $(grep -o 'accuracy \*\*[0-9.]*%' "$out/$run/classify_report.md" | head -1)"
done
