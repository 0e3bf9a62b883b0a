/**
 * Error norms: `err` holds local error estimates, `scale[i] = atol[i] + rtol[i]·max(|y_n|, |y_{n+1}|)`.
 * A step is accepted when the norm is at most 1.
 */
import type { ErrorNorm } from './types.js';

/** Root mean square of err/scale (Hairer, SciPy): the default. Zero for an empty state. */
export const rmsNorm: ErrorNorm = (err, scale) => {
  const n = err.length;
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const r = err[i] / scale[i];
    s += r * r;
  }
  return Math.sqrt(s / n);
};

/** Largest |err/scale|: stricter than RMS for large systems where one component matters. */
export const maxNorm: ErrorNorm = (err, scale) => {
  let m = 0;
  for (let i = 0; i < err.length; i++) {
    const r = Math.abs(err[i] / scale[i]);
    // NaN must propagate so that the step is rejected.
    if (!(r <= m)) m = r;
  }
  return m;
};
