/** The Radau IIA and RODAS4 constants, checked against the methods' defining conditions. */
import { describe, expect, it } from 'vitest';
import {
  RADAU_A,
  RADAU_C,
  RADAU_MU_COMPLEX_IM,
  RADAU_MU_COMPLEX_RE,
  RADAU_MU_REAL,
  RADAU_P,
  RADAU_T,
  RADAU_TI,
} from '../src/ode/stiff/radau-tableau.js';
import { RODAS4_A, RODAS4_C, RODAS4_CC, RODAS4_D, RODAS4_GAMMA } from '../src/ode/stiff/rodas-tableau.js';

function mul(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[i * 3 + k] * b[k * 3 + j];
      out.push(s);
    }
  }
  return out;
}

function inverse3(m: readonly number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
}

describe('Radau IIA order 5 constants', () => {
  it('A satisfies the collocation conditions Σ_j a_ij c_j^(q−1) = c_i^q / q for q = 1..3', () => {
    for (let i = 0; i < 3; i++) {
      for (let q = 1; q <= 3; q++) {
        let s = 0;
        for (let j = 0; j < 3; j++) s += RADAU_A[i * 3 + j] * RADAU_C[j] ** (q - 1);
        expect(s).toBeCloseTo(RADAU_C[i] ** q / q, 14);
      }
    }
  });

  it('T and T⁻¹ block-diagonalise A⁻¹ into μ_real and the pair α ± iβ', () => {
    const ident = mul(RADAU_TI, RADAU_T);
    for (let k = 0; k < 9; k++) expect(ident[k]).toBeCloseTo(k % 4 === 0 ? 1 : 0, 13);
    const lambda = mul(mul(RADAU_TI, inverse3(RADAU_A)), RADAU_T);
    const alpha = RADAU_MU_COMPLEX_RE;
    const beta = -RADAU_MU_COMPLEX_IM;
    const expected = [RADAU_MU_REAL, 0, 0, 0, alpha, beta, 0, -beta, alpha];
    for (let k = 0; k < 9; k++) expect(lambda[k]).toBeCloseTo(expected[k], 12);
  });

  it('P reproduces the stage values: Σ_k (Zᵀ P)_k c_j^(k+1) = Z_j', () => {
    // Vandermonde V[j][k] = c_j^(k+1); P must be V^-T.
    const v = [0, 1, 2].flatMap((j) => [1, 2, 3].map((p) => RADAU_C[j] ** p));
    const vt = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => v[j * 3 + i]));
    const prod = mul(vt, RADAU_P);
    for (let k = 0; k < 9; k++) expect(prod[k]).toBeCloseTo(k % 4 === 0 ? 1 : 0, 12);
  });
});

describe('RODAS4 constants', () => {
  it('recover the classical α_ij, γ_ij with Σ_j α_ij = c_i and Σ_j γ_ij = d_i', () => {
    // Transformed form: Γ⁻¹ = I/γ − C (C strictly lower, from c_ij) and α = A·Γ (A from a_ij).
    const s = 6;
    const gInv: number[][] = Array.from({ length: s }, (_, i) =>
      Array.from({ length: s }, (_, j) => (i === j ? 1 / RODAS4_GAMMA : j < i ? -RODAS4_CC[i][j] : 0)),
    );
    // Invert the lower-triangular Γ⁻¹ column by column.
    const gamma: number[][] = Array.from({ length: s }, () => new Array<number>(s).fill(0));
    for (let j = 0; j < s; j++) {
      for (let i = j; i < s; i++) {
        let v = i === j ? 1 : 0;
        for (let k = j; k < i; k++) v -= gInv[i][k] * gamma[k][j];
        gamma[i][j] = v / gInv[i][i];
      }
    }
    for (let i = 0; i < 5; i++) {
      // Σ_j γ_ij = d_i (the coefficients of h·∂f/∂t).
      expect(gamma[i].reduce((acc, v) => acc + v, 0)).toBeCloseTo(RODAS4_D[i], 10);
      let rowSum = 0;
      for (let j = 0; j < i; j++) {
        for (let k = 0; k < s; k++) rowSum += RODAS4_A[i][j] * gamma[j][k];
      }
      expect(rowSum).toBeCloseTo(RODAS4_C[i], 10);
    }
  });
});
