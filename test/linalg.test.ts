import { describe, expect, it } from 'vitest';
import {
  complexLuFactor,
  complexLuSolve,
  denseLinearSolver,
  luFactor,
  luSolve,
} from '../src/linalg/index.js';
import { Rng } from '../src/random/index.js';

function randomMatrix(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) a[i] = rng.normal();
  return a;
}

function matVec(a: Float64Array, n: number, x: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    out[i] = s;
  }
  return out;
}

describe('real LU with partial pivoting', () => {
  it('solves random systems to near machine precision', () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 5, 17, 40]) {
      const a = randomMatrix(rng, n);
      const x = Float64Array.from({ length: n }, () => rng.normal());
      const b = matVec(a, n, x);
      const lu = Float64Array.from(a);
      const piv = new Int32Array(n);
      expect(luFactor(lu, n, piv)).toBe(-1);
      luSolve(lu, n, piv, b);
      for (let i = 0; i < n; i++) expect(b[i]).toBeCloseTo(x[i], 9);
    }
  });

  it('needs and performs pivoting when the leading entry is zero', () => {
    const a = Float64Array.from([0, 1, 1, 1]);
    const piv = new Int32Array(2);
    expect(luFactor(a, 2, piv)).toBe(-1);
    expect(piv[0]).toBe(1);
    const b = Float64Array.from([2, 3]); // x = [1, 2]
    luSolve(a, 2, piv, b);
    expect(Array.from(b)).toEqual([1, 2]);
  });

  it('reports the step of a zero pivot for a singular matrix', () => {
    const a = Float64Array.from([1, 2, 3, 2, 4, 6, 1, 0, 1]);
    expect(luFactor(a, 3, new Int32Array(3))).toBeGreaterThanOrEqual(1);
  });
});

describe('complex LU on split storage', () => {
  it('agrees with the real 2n×2n embedding [[A, −B], [B, A]]', () => {
    const rng = new Rng(11);
    const n = 7;
    const re = randomMatrix(rng, n);
    const im = randomMatrix(rng, n);
    const xr = Float64Array.from({ length: n }, () => rng.normal());
    const xi = Float64Array.from({ length: n }, () => rng.normal());
    // b = (A + iB)(xr + i·xi)
    const ar = matVec(re, n, xr);
    const bi = matVec(im, n, xi);
    const ai = matVec(re, n, xi);
    const br = matVec(im, n, xr);
    const bRe = ar.map((v, i) => v - bi[i]);
    const bIm = ai.map((v, i) => v + br[i]);
    const fr = Float64Array.from(re);
    const fi = Float64Array.from(im);
    const piv = new Int32Array(n);
    expect(complexLuFactor(fr, fi, n, piv)).toBe(-1);
    complexLuSolve(fr, fi, n, piv, bRe, bIm);
    for (let i = 0; i < n; i++) {
      expect(bRe[i]).toBeCloseTo(xr[i], 9);
      expect(bIm[i]).toBeCloseTo(xi[i], 9);
    }
  });

  it('detects a singular complex matrix', () => {
    // Rows proportional by the factor i.
    const re = Float64Array.from([1, 2, 0, 0]);
    const im = Float64Array.from([0, 0, 1, 2]);
    expect(complexLuFactor(re, im, 2, new Int32Array(2))).toBe(1);
  });
});

describe('shifted linear solver interface', () => {
  it('solves (σI − J)x = b for real and complex shifts and leaves J untouched', () => {
    const rng = new Rng(5);
    const n = 6;
    const jac = randomMatrix(rng, n);
    const jacCopy = Float64Array.from(jac);
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const real = denseLinearSolver(n, false);
    expect(real.factor(jac, 2.5, 0)).toBe(true);
    const b = matVec(jac, n, x).map((v, i) => 2.5 * x[i] - v);
    real.solve(b);
    for (let i = 0; i < n; i++) expect(b[i]).toBeCloseTo(x[i], 10);

    // Complex shift σ = 1 − 2i, real solution x: b = σx − Jx.
    const complex = denseLinearSolver(n, true);
    expect(complex.factor(jac, 1, -2)).toBe(true);
    const jx = matVec(jac, n, x);
    const bRe = x.map((v, i) => v - jx[i]);
    const bIm = x.map((v) => -2 * v);
    complex.solve(bRe, bIm);
    for (let i = 0; i < n; i++) {
      expect(bRe[i]).toBeCloseTo(x[i], 10);
      expect(bIm[i]).toBeCloseTo(0, 10);
    }
    expect(jac).toEqual(jacCopy);
  });

  it('reports singular iteration matrices and rejects misuse by name', () => {
    const real = denseLinearSolver(2, false);
    // σ = 1 is an eigenvalue of J = I.
    expect(real.factor(Float64Array.from([1, 0, 0, 1]), 1, 0)).toBe(false);
    expect(() => real.factor(Float64Array.from([1, 0, 0, 1]), 1, 1)).toThrow(/shiftIm/);
    const complex = denseLinearSolver(2, true);
    complex.factor(Float64Array.from([1, 0, 0, 1]), 2, 1);
    expect(() => complex.solve(new Float64Array(2))).toThrow(/imaginary part/);
  });
});
