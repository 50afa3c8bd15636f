/**
 * Memorisation check: the longest run of tokens a generated text shares with
 * the training text. Long shared runs mean the model is reciting its training
 * data rather than writing new text.
 *
 * The search builds a suffix automaton (Blumer et al. 1985) of the *generated*
 * tokens — a few hundred states — and streams the training tokens through it
 * once, tracking the longest suffix of the training text read so far that
 * occurs in the generated text. That is exact, linear in the training text,
 * and needs no index over the corpus (a suffix array of millions of tokens
 * would cost far more time and memory than the check itself).
 */
class SuffixAutomaton {
  private readonly len: number[] = [0];
  private readonly link: number[] = [-1];
  private readonly next: Array<Map<number, number>> = [new Map()];
  private last = 0;

  constructor(tokens: ArrayLike<number>) {
    for (let i = 0; i < tokens.length; i++) this.extend(tokens[i]!);
  }

  private extend(t: number): void {
    const cur = this.addState(this.len[this.last]! + 1, -1, new Map());
    let p = this.last;
    while (p !== -1 && !this.next[p]!.has(t)) {
      this.next[p]!.set(t, cur);
      p = this.link[p]!;
    }
    if (p === -1) this.link[cur] = 0;
    else {
      const q = this.next[p]!.get(t)!;
      if (this.len[p]! + 1 === this.len[q]) this.link[cur] = q;
      else {
        const clone = this.addState(this.len[p]! + 1, this.link[q]!, new Map(this.next[q]!));
        while (p !== -1 && this.next[p]!.get(t) === q) {
          this.next[p]!.set(t, clone);
          p = this.link[p]!;
        }
        this.link[q] = clone;
        this.link[cur] = clone;
      }
    }
    this.last = cur;
  }

  private addState(len: number, link: number, next: Map<number, number>): number {
    this.len.push(len);
    this.link.push(link);
    this.next.push(next);
    return this.len.length - 1;
  }

  /**
   * The longest run of `corpus` tokens that also occurs in the automaton's
   * tokens: its length and the corpus index just past its end.
   */
  longestMatchIn(corpus: ArrayLike<number>): { length: number; corpusEnd: number } {
    let state = 0;
    let matched = 0;
    let best = { length: 0, corpusEnd: 0 };
    for (let i = 0; i < corpus.length; i++) {
      const t = corpus[i]!;
      while (state !== 0 && !this.next[state]!.has(t)) {
        state = this.link[state]!;
        matched = this.len[state]!;
      }
      const to = this.next[state]!.get(t);
      if (to === undefined) {
        matched = 0;
      } else {
        state = to;
        matched++;
      }
      if (matched > best.length) best = { length: matched, corpusEnd: i + 1 };
    }
    return best;
  }
}

/** Longest token run shared by `generated` and `corpus`: its length and where it sits in the corpus. */
export function longestSharedRun(generated: ArrayLike<number>, corpus: ArrayLike<number>): { length: number; corpusStart: number } {
  const { length, corpusEnd } = new SuffixAutomaton(generated).longestMatchIn(corpus);
  return { length, corpusStart: corpusEnd - length };
}
