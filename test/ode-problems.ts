/**
 * Non-stiff test problems with analytic solutions, shared by the explicit-solver tests.
 */
import type { Dynamics } from '../src/ode/index.js';

export interface AnalyticProblem {
  readonly name: string;
  readonly f: Dynamics;
  readonly exact: (t: number) => number[];
}

export const DECAY: AnalyticProblem = {
  name: 'decay',
  f: (_t, y, d) => {
    d[0] = -0.8 * y[0];
  },
  exact: (t) => [Math.exp(-0.8 * t)],
};

export const OSCILLATOR: AnalyticProblem = {
  name: 'oscillator',
  f: (_t, y, d) => {
    d[0] = y[1];
    d[1] = -y[0];
  },
  exact: (t) => [Math.sin(t), Math.cos(t)],
};

/** Kepler two-body orbit (μ = 1, semi-major axis 1) with eccentricity e, starting at periapsis. */
export function keplerProblem(e: number): AnalyticProblem {
  const s = Math.sqrt(1 - e * e);
  return {
    name: `kepler(e=${e})`,
    f: (_t, u, d) => {
      const r = Math.hypot(u[0], u[1]);
      const r3 = r * r * r;
      d[0] = u[2];
      d[1] = u[3];
      d[2] = -u[0] / r3;
      d[3] = -u[1] / r3;
    },
    exact: (t) => {
      // Kepler's equation E − e·sin E = t (mean anomaly = t for unit period 2π), by Newton's method.
      let E = t;
      for (let i = 0; i < 60; i++) {
        const dE = (E - e * Math.sin(E) - t) / (1 - e * Math.cos(E));
        E -= dE;
        if (Math.abs(dE) < 1e-16) break;
      }
      const den = 1 - e * Math.cos(E);
      return [Math.cos(E) - e, s * Math.sin(E), -Math.sin(E) / den, (s * Math.cos(E)) / den];
    },
  };
}

/** exp(A·t) by scaling and squaring of a Taylor series (accurate to roundoff for small matrices). */
export function matrixExponential(a: readonly number[][], t: number): number[][] {
  const n = a.length;
  const norm = Math.max(...a.map((row) => row.reduce((s, x) => s + Math.abs(x * t), 0)));
  const squarings = Math.max(0, Math.ceil(Math.log2(norm)) + 4);
  const scale = t / 2 ** squarings;
  const identity = (): number[][] =>
    Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const mul = (x: readonly (readonly number[])[], y: readonly (readonly number[])[]): number[][] =>
    x.map((row) => y[0].map((_, j) => row.reduce((s, xik, k) => s + xik * y[k][j], 0)));
  let result = identity();
  let term = identity();
  for (let k = 1; k <= 30; k++) {
    term = mul(term, a).map((row) => row.map((x) => (x * scale) / k));
    result = result.map((row, i) => row.map((x, j) => x + term[i][j]));
  }
  for (let i = 0; i < squarings; i++) result = mul(result, result);
  return result;
}

/** y' = A y with a rotating, decaying mode and a slow mode; exact solution from the matrix exponential. */
export const LINEAR_MATRIX = [
  [-0.2, 1, 0],
  [-1, -0.2, 0.5],
  [0, 0.1, -0.05],
];
export const LINEAR_Y0 = [1, 0.5, -0.3];
export const LINEAR: AnalyticProblem = {
  name: 'linear',
  f: (_t, y, d) => {
    for (let i = 0; i < 3; i++) {
      const row = LINEAR_MATRIX[i];
      d[i] = row[0] * y[0] + row[1] * y[1] + row[2] * y[2];
    }
  },
  exact: (t) =>
    matrixExponential(LINEAR_MATRIX, t).map((row) => row.reduce((s, x, j) => s + x * LINEAR_Y0[j], 0)),
};

/** Least-squares slope of ys against xs. */
export function fitSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** Largest absolute deviation from the exact solution. */
export function maxError(y: ArrayLike<number>, exact: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(y[i] - exact[i]));
  return worst;
}

/** Tolerances from `from` down to `to` in steps of 10^(−1/2). */
export function halfDecades(from: number, to: number): number[] {
  const out: number[] = [];
  for (let k = 0; from * 10 ** (-k / 2) >= to * 0.999; k++) out.push(from * 10 ** (-k / 2));
  return out;
}
