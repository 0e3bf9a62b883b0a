/**
 * Interpolants that outlive a step: polynomial pieces (what each method's continuous extension is frozen
 * into), cubic Hermite pieces for methods without their own extension, and the stitched dense solution.
 */
import type { Interpolant } from './types.js';

/**
 * y(t0 + θh) = Σ_j C_j θ^j for θ ∈ [0, 1], with the coefficient vectors C_0 … C_deg stored one after the
 * other in `coeffs` (C_0 = y at t0). Evaluated by Horner's rule, one pass per degree.
 */
export class PolynomialPiece implements Interpolant {
  readonly degree: number;
  constructor(
    readonly t0: number,
    readonly t1: number,
    readonly n: number,
    readonly coeffs: Float64Array,
  ) {
    this.degree = n === 0 ? 0 : coeffs.length / n - 1;
  }

  evaluate(t: number, out?: Float64Array): Float64Array {
    const { n, coeffs, degree } = this;
    const dest = out ?? new Float64Array(n);
    const h = this.t1 - this.t0;
    const theta = h === 0 ? 0 : (t - this.t0) / h;
    const top = degree * n;
    for (let i = 0; i < n; i++) dest[i] = coeffs[top + i];
    for (let j = degree - 1; j >= 0; j--) {
      const off = j * n;
      for (let i = 0; i < n; i++) dest[i] = dest[i] * theta + coeffs[off + i];
    }
    return dest;
  }

  freeze(): Interpolant {
    return this;
  }
}

/**
 * Coefficients of the cubic Hermite interpolant through (t0, y0, f0) and (t0 + h, y1, f1) in θ:
 * y0 + θ·h f0 + θ²(3Δ − h(2f0 + f1)) + θ³(h(f0 + f1) − 2Δ), Δ = y1 − y0. Third order.
 */
export function fillHermiteCoefficients(
  coeffs: Float64Array,
  h: number,
  y0: Float64Array,
  f0: Float64Array,
  y1: Float64Array,
  f1: Float64Array,
): void {
  const n = y0.length;
  for (let i = 0; i < n; i++) {
    const delta = y1[i] - y0[i];
    coeffs[i] = y0[i];
    coeffs[n + i] = h * f0[i];
    coeffs[2 * n + i] = 3 * delta - h * (2 * f0[i] + f1[i]);
    coeffs[3 * n + i] = h * (f0[i] + f1[i]) - 2 * delta;
  }
}

/**
 * Freeze any interpolant: its own `freeze` when it has one, otherwise a quartic through five samples at
 * Chebyshev–Lobatto points (exact at both ends; about fourth-order accurate).
 */
export function freezeInterpolant(source: Interpolant, n: number): Interpolant {
  if (source.freeze !== undefined) return source.freeze();
  const { t0, t1 } = source;
  const nodes = [0, (1 - Math.SQRT1_2) / 2, 0.5, (1 + Math.SQRT1_2) / 2, 1];
  const m = nodes.length;
  const samples = nodes.map((s) => source.evaluate(s === 1 ? t1 : t0 + s * (t1 - t0), new Float64Array(n)));
  // Newton divided differences on the nodes, then expand to monomial coefficients in θ.
  const dd = samples.map((v) => Float64Array.from(v));
  for (let level = 1; level < m; level++) {
    for (let j = m - 1; j >= level; j--) {
      const denom = nodes[j] - nodes[j - level];
      for (let i = 0; i < n; i++) dd[j][i] = (dd[j][i] - dd[j - 1][i]) / denom;
    }
  }
  const coeffs = new Float64Array(m * n);
  // Horner on the Newton form: p = dd[m−1]; p = p·(θ − node_j) + dd[j].
  const poly = Array.from({ length: m }, () => new Float64Array(n));
  poly[0].set(dd[m - 1]);
  let deg = 0;
  for (let j = m - 2; j >= 0; j--) {
    for (let k = deg + 1; k >= 0; k--) {
      for (let i = 0; i < n; i++) {
        const shifted = k > 0 ? poly[k - 1][i] : 0;
        const here = k <= deg ? poly[k][i] * -nodes[j] : 0;
        poly[k][i] = shifted + here;
      }
    }
    deg++;
    for (let i = 0; i < n; i++) poly[0][i] += dd[j][i];
  }
  for (let k = 0; k < m; k++) coeffs.set(poly[k], k * n);
  return new PolynomialPiece(t0, t1, n, coeffs);
}

/** The callable dense solution of a solve: `sol(t)` or `sol.evaluate(t, out)`. */
export type DenseSolution = ((t: number, out?: Float64Array) => Float64Array) & Interpolant;

/**
 * Stitch per-step interpolants (in the solver's increasing-time frame) into one dense solution in the
 * caller's frame (`direction` −1 for a backward solve). At a breakpoint shared by two steps the later step
 * wins. Asking outside [t0, t1] (beyond a relative slack of 1e-12) throws a RangeError.
 */
export function stitchDenseSolution(
  pieces: readonly Interpolant[],
  direction: 1 | -1,
  tStart: number,
  tEnd: number,
  n: number,
  yConstant: Float64Array,
): DenseSolution {
  const starts = Float64Array.from(pieces, (p) => p.t0);
  const lo = Math.min(tStart, tEnd);
  const hi = Math.max(tStart, tEnd);
  const slack = 1e-12 * Math.max(1, Math.abs(lo), Math.abs(hi));
  const evaluate = (t: number, out?: Float64Array): Float64Array => {
    if (!(t >= lo - slack && t <= hi + slack)) {
      throw new RangeError(`sol(t): t = ${t} lies outside the solved interval [${lo}, ${hi}]`);
    }
    const dest = out ?? new Float64Array(n);
    if (pieces.length === 0) {
      dest.set(yConstant);
      return dest;
    }
    const s = direction * t;
    // Last piece whose start is ≤ s (later piece wins at a shared breakpoint).
    let a = 0;
    let b = starts.length - 1;
    while (a < b) {
      const mid = (a + b + 1) >> 1;
      if (starts[mid] <= s) a = mid;
      else b = mid - 1;
    }
    return pieces[a].evaluate(s, dest);
  };
  return Object.assign(evaluate, { t0: tStart, t1: tEnd, evaluate });
}
