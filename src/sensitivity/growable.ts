/** An append-only Float64Array that doubles its capacity (amortised O(1) appends, no per-element objects). */
export class GrowableBuffer {
  data: Float64Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Float64Array(Math.max(1, capacity));
  }

  /** Reserve `count` more floats and return the offset where they start. */
  reserve(count: number): number {
    const need = this.length + count;
    if (need > this.data.length) {
      let cap = this.data.length * 2;
      while (cap < need) cap *= 2;
      const next = new Float64Array(cap);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    const at = this.length;
    this.length = need;
    return at;
  }

  push(value: number): void {
    // Reserve first: `this.data[this.reserve(1)]` would read `this.data` before a reallocation.
    const at = this.reserve(1);
    this.data[at] = value;
  }

  clear(): void {
    this.length = 0;
  }
}
