/**
 * Automatic initial step (Hairer, Nørsett & Wanner, Solving ODEs I §II.4, as in SciPy's select_initial_step):
 * compare the size of y0 with f0 for a first guess h0, take one explicit Euler step to estimate the second
 * derivative, and choose h so that the leading error term of a method of order `order` is about the
 * tolerance. Costs one evaluation of f. The result never exceeds the interval or maxStep.
 */
import type { Dynamics, StepperOptions } from './types.js';

export function selectInitialStep(
  f: Dynamics,
  t0: number,
  y0: Float64Array,
  f0: Float64Array,
  span: number,
  order: number,
  options: StepperOptions,
  scale: Float64Array,
  work: Float64Array,
  f1: Float64Array,
): number {
  const n = y0.length;
  if (n === 0 || span === 0) return Math.min(span, options.maxStep);
  const { rtol, atol } = options;
  for (let i = 0; i < n; i++) scale[i] = atol[i] + rtol[i] * Math.abs(y0[i]);
  const d0 = options.norm(y0, scale);
  const d1 = options.norm(f0, scale);
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
  h0 = Math.min(h0, span, options.maxStep);
  for (let i = 0; i < n; i++) work[i] = y0[i] + h0 * f0[i];
  f(t0 + h0, work, f1);
  for (let i = 0; i < n; i++) work[i] = f1[i] - f0[i];
  const d2 = options.norm(work, scale) / h0;
  const h1 =
    d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / (order + 1));
  const h = Math.min(100 * h0, h1, span, options.maxStep);
  // A non-finite f1 makes h NaN; fall back to the Euler guess and let step control shrink it.
  return Number.isFinite(h) && h > 0 ? h : h0;
}

/** Machine epsilon of float64. */
export const EPS = 2.220446049250313e-16;

/** Smallest usable step at time t: ten ulps of t (below that, t + h rounds back to t). */
export function minStepAt(t: number): number {
  return 10 * Math.max(Math.abs(t) * EPS, 1e-300);
}
