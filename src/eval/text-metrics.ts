/**
 * Reference-based text metrics for comparing generated text with the original
 * continuation. All work on word units (see `words`), so the numbers do not
 * depend on the model's tokenizer and compare across char, word and BPE models.
 */

/** Words (letters/digits, with inner apostrophes) and single punctuation marks; case is kept. */
export function words(text: string): string[] {
  return text.match(/[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]/gu) ?? [];
}

function ngramCounts(units: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= units.length; i++) {
    // U+0001 cannot occur inside a word unit, so joined keys are unambiguous.
    const key = units.slice(i, i + n).join('\u0001');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** NLTK's SmoothingFunction.method1 epsilon: a zero n-gram match count becomes 0.1. */
const BLEU_EPSILON = 0.1;

/**
 * Corpus-level BLEU-4 (Papineni et al. 2002) with one reference per
 * hypothesis, uniform weights, and NLTK's `corpus_bleu` conventions: clipped
 * n-gram matches and hypothesis n-gram totals are summed over all pairs (each
 * pair's total counted as at least 1), the brevity penalty uses the summed
 * lengths, and a precision with no matches is smoothed with NLTK method1
 * (matches := 0.1). No unigram match at all scores 0. Returns a value in [0, 1].
 */
export function bleu(pairs: ReadonlyArray<{ hypothesis: readonly string[]; reference: readonly string[] }>, maxN = 4): number {
  const matches = new Array<number>(maxN).fill(0);
  const totals = new Array<number>(maxN).fill(0);
  let hypLength = 0;
  let refLength = 0;
  for (const { hypothesis, reference } of pairs) {
    hypLength += hypothesis.length;
    refLength += reference.length;
    for (let n = 1; n <= maxN; n++) {
      const hyp = ngramCounts(hypothesis, n);
      const ref = ngramCounts(reference, n);
      let clipped = 0;
      let total = 0;
      for (const [g, c] of hyp) {
        clipped += Math.min(c, ref.get(g) ?? 0);
        total += c;
      }
      matches[n - 1] += clipped;
      totals[n - 1] += Math.max(1, total);
    }
  }
  if (hypLength === 0 || matches[0] === 0) return 0;
  const brevity = hypLength < refLength ? Math.exp(1 - refLength / hypLength) : 1;
  let logSum = 0;
  for (let n = 0; n < maxN; n++) logSum += Math.log((matches[n] === 0 ? BLEU_EPSILON : matches[n]!) / totals[n]!) / maxN;
  return brevity * Math.exp(logSum);
}

/** Length of the longest common subsequence (dynamic programming, two rows). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * ROUGE-L (Lin 2004) as the `rouge-score` package reports it: precision =
 * LCS/|hypothesis|, recall = LCS/|reference|, and their harmonic mean F1 (β = 1).
 */
export function rougeL(hypothesis: readonly string[], reference: readonly string[]): { precision: number; recall: number; f: number } {
  const lcs = lcsLength(hypothesis, reference);
  const precision = hypothesis.length ? lcs / hypothesis.length : 0;
  const recall = reference.length ? lcs / reference.length : 0;
  return { precision, recall, f: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

/**
 * distinct-n (Li et al. 2016): distinct n-grams over all n-grams, pooled over
 * the texts (n-grams never span two texts). 0 when there are no n-grams.
 */
export function distinctN(texts: ReadonlyArray<readonly string[]>, n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const units of texts) {
    for (const [g, c] of ngramCounts(units, n)) {
      seen.add(g);
      total += c;
    }
  }
  return total ? seen.size / total : 0;
}
