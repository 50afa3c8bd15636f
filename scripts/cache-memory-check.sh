#!/usr/bin/env bash
# Memory check of the streaming token cache (not part of npm test: it writes
# ~1 GB of text and ~2 GB of tokens): builds a synthetic corpus of SIZE_MB
# (default 1100) in a temporary folder under /tmp, then runs
# `inkwell train --preset char-gpt --steps 1` on it under /usr/bin/time -v and
# prints the peak RSS and the wall time. Everything is deleted afterwards.
# Run after `npm run build`; check `df -h /tmp` first (needs ~4 GB).
set -euo pipefail
SIZE_MB=${SIZE_MB:-1100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/inkwell-memcheck-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
python3 - "$DIR/big.txt" "$SIZE_MB" <<'PY'
import random, sys
path, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
words = ["the", "whale", "sea", "ship", "captain", "Ahab", "white", "night", "said", "upon", "old", "man", "water", "deck", "boat", "crew", "Ishmael", "harpoon", "wind", "storm", "naïve", "café", "over", "under", "and", "of", "to", "a", "in", "was"]
def para():
    ws = [rng.choice(words) for _ in range(rng.randint(40, 160))]
    lines, line = [], []
    for w in ws:
        line.append(w)
        if sum(len(x) + 1 for x in line) > 68:
            lines.append(" ".join(line)); line = []
    lines.append(" ".join(line) + ".")
    return "\r\n".join(lines) + "\r\n\r\n"
blocks = ["".join(para() for _ in range(1200)).encode("utf-8") for _ in range(16)]
written = 0
with open(path, "wb") as f:
    while written < mb * 1024 * 1024:
        b = rng.choice(blocks); f.write(b); written += len(b)
print(f"corpus: {written / 1024 / 1024:.0f} MiB", file=sys.stderr)
PY
ls -l "$DIR/big.txt"
/usr/bin/time -v node "$ROOT/dist/src/cli/main.js" train --preset char-gpt --steps 1 --eval-interval 0 --corpus "$DIR/big.txt" --out "$DIR/run" 2> "$DIR/time.txt" || { cat "$DIR/time.txt"; exit 1; }
grep -E "Maximum resident set size|Elapsed \(wall clock\)|Exit status" "$DIR/time.txt"
ls -l "$DIR/run/data"
