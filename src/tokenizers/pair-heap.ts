/**
 * Max-heap of BPE pair candidates ordered by count (higher first), then by pair
 * key (lower first: the left id, then the right id), which makes training
 * deterministic and matches Hugging Face's tie-breaking. Entries are snapshots;
 * the trainer discards ones whose count went stale (lazy deletion).
 */
export class PairHeap {
  private keys: number[] = [];
  private counts: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, count: number): void {
    this.keys.push(key);
    this.counts.push(count);
    this.up(this.keys.length - 1);
  }

  /** Removes the best entry; returns its key and count, or undefined when empty. */
  pop(): { key: number; count: number } | undefined {
    const n = this.keys.length;
    if (n === 0) return undefined;
    const top = { key: this.keys[0]!, count: this.counts[0]! };
    const lastKey = this.keys.pop()!;
    const lastCount = this.counts.pop()!;
    if (n > 1) {
      this.keys[0] = lastKey;
      this.counts[0] = lastCount;
      this.down(0);
    }
    return top;
  }

  private better(i: number, j: number): boolean {
    const ci = this.counts[i]!, cj = this.counts[j]!;
    return ci !== cj ? ci > cj : this.keys[i]! < this.keys[j]!;
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i]!; this.keys[i] = this.keys[j]!; this.keys[j] = k;
    const c = this.counts[i]!; this.counts[i] = this.counts[j]!; this.counts[j] = c;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let best = i;
      if (l < n && this.better(l, best)) best = l;
      if (r < n && this.better(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}
