/**
 * Log-probabilities reported with `logprobs`: of the model's own next-token
 * distribution (log-softmax of the raw logits), before penalties, temperature
 * or top-k/top-p reshape it for sampling — what the model thinks, whatever
 * the request's sampling settings.
 */
export interface TokenLogprob {
  logprob: number;
  /** The most likely tokens and their log-probabilities, most likely first. */
  top: Array<{ token: number; logprob: number }>;
}

export function tokenLogprobs(logits: Float32Array, token: number, top: number): TokenLogprob {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const logZ = max + Math.log(sum);
  const best: number[] = [];
  // Insertion into a short sorted list: top is small (≤ 20), the vocabulary is scanned once.
  for (let i = 0; i < logits.length && top > 0; i++) {
    if (best.length === top && logits[i]! <= logits[best[top - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && logits[best[at - 1]!]! < logits[i]!) at--;
    best.splice(at, 0, i);
    if (best.length > top) best.pop();
  }
  return { logprob: logits[token]! - logZ, top: best.map((t) => ({ token: t, logprob: logits[t]! - logZ })) };
}
