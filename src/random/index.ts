/**
 * The one seedable pseudo-random number generator of neuralode.
 *
 * Every source of randomness in the library (initializers, minibatch sampling, noise for trace estimators,
 * reparameterization) takes an {@link Rng}, so that a run is reproducible from its seed and its state can be
 * checkpointed and restored exactly.
 *
 * The core generator is xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 2021): 128 bits of state held in four uint32 words, period 2^128 − 1, and only 32-bit integer
 * operations, which JavaScript engines execute without boxing. Seeds are expanded with splitmix32 so that
 * nearby seeds give unrelated streams. Normal deviates use the Box–Muller transform; the spare deviate is part
 * of the saved state, so save/restore is exact even between the two halves of a pair.
 */

/** Serializable generator state: restore it with {@link Rng.fromState} or {@link Rng.setState}. */
export interface RngState {
  readonly s: readonly [number, number, number, number];
  /** The cached second Box–Muller deviate, or null when none is pending. */
  readonly spare: number | null;
}

const TWO_POW_M53 = 2 ** -53;

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /**
   * @param seed any finite number; its integer part (mod 2^32) and, for large seeds, its high bits select
   *   the stream.
   */
  constructor(seed = 0) {
    if (!Number.isFinite(seed)) {
      throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(Math.abs(seed) / 2 ** 32) >>> 0;
    const mix = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2d));
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  getState(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  setState(state: RngState): void {
    const s = state?.s;
    if (
      !Array.isArray(s) ||
      s.length !== 4 ||
      s.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)
    ) {
      throw new TypeError('Rng.setState: state.s must be four unsigned 32-bit integers');
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) {
      throw new RangeError('Rng.setState: the all-zero state is not a valid xoshiro128** state');
    }
    if (state.spare !== null && !Number.isFinite(state.spare)) {
      throw new TypeError('Rng.setState: state.spare must be a finite number or null');
    }
    this.s0 = s[0];
    this.s1 = s[1];
    this.s2 = s[2];
    this.s3 = s[3];
    this.spare = state.spare;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_POW_M53;
  }

  /** A uniform double in [low, high). */
  uniformIn(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Rejection sampling removes the modulo bias.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal deviate (mean 0, variance 1). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    // 1 - uniform() lies in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  }

  /** Fills `out` with N(mean, std²) deviates and returns it. */
  fillNormal<T extends Float64Array | Float32Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fills `out` with uniform deviates on [low, high) and returns it. */
  fillUniform<T extends Float64Array | Float32Array>(out: T, low = 0, high = 1): T {
    const width = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + width * this.uniform();
    return out;
  }

  /** Fills `out` with independent ±1 values (Rademacher noise, as used by Hutchinson's trace estimator). */
  fillRademacher<T extends Float64Array | Float32Array>(out: T): T {
    let bits = 0;
    for (let i = 0; i < out.length; i++) {
      if ((i & 31) === 0) bits = this.nextUint32();
      out[i] = bits & 1 ? 1 : -1;
      bits >>>= 1;
    }
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }

  /** An independent generator whose seed is drawn from this one (for parallel streams). */
  split(): Rng {
    return new Rng(this.nextUint32() * 2 ** 20 + (this.nextUint32() >>> 12));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
