/**
 * Pieces shared by the implicit methods: the landing rule for `tLimit`, the weighted norm of stacked stage
 * vectors, Newton tolerances and the live dense-output adapter (the initial step and the smallest usable
 * step come from ../initial-step.ts, shared with the explicit methods).
 */
import { EPS } from '../initial-step.js';
import type { Interpolant, StepperOptions } from '../types.js';

/** A stiff stepper's dense output over its last step, evaluated in place or frozen as a standalone piece. */
export interface DenseOutputSource {
  readonly y: Float64Array;
  denseAt(t: number, out: Float64Array): void;
  freezeDense(): Interpolant;
}

/** The live interpolant a stiff stepper hands out: it reads the stepper's current step until frozen. */
export class StepperInterpolant implements Interpolant {
  t0 = 0;
  t1 = 0;
  constructor(private readonly source: DenseOutputSource) {}
  evaluate(t: number, out?: Float64Array): Float64Array {
    const dest = out ?? new Float64Array(this.source.y.length);
    this.source.denseAt(t, dest);
    return dest;
  }
  freeze(): Interpolant {
    return this.source.freezeDense();
  }
}

export { EPS, minStepAt } from '../initial-step.js';

/**
 * End of a step of size h from t towards tLimit. A step that would pass tLimit, or stop short of it by less
 * than 1% of h, ends exactly on tLimit: this avoids a sliver step just before an output or stop time.
 */
export function stepEnd(t: number, h: number, tLimit: number): number {
  return t + 1.01 * h >= tLimit ? tLimit : t + h;
}

/**
 * Fill `scale` with atol + rtol·max(|a|, |b|) (pass the same array twice for a single state).
 */
export function fillScale(
  scale: Float64Array,
  options: StepperOptions,
  a: Float64Array,
  b: Float64Array,
): void {
  const { rtol, atol } = options;
  for (let i = 0; i < scale.length; i++) {
    scale[i] = atol[i] + rtol[i] * Math.max(Math.abs(a[i]), Math.abs(b[i]));
  }
}

/** Smallest per-component relative tolerance (the strictest one drives Newton tolerances). */
export function minRtol(options: StepperOptions): number {
  let r = Number.POSITIVE_INFINITY;
  for (let i = 0; i < options.rtol.length; i++) r = Math.min(r, options.rtol[i]);
  return Number.isFinite(r) ? r : 1e-3;
}

/**
 * Tolerance for the simplified Newton iterations, relative to the error scale: tight enough that the
 * iteration error stays well below the local error estimate, never below what roundoff allows
 * (the rule of Hairer & Wanner's RADAU5 and SciPy's BDF/Radau).
 */
export function newtonTolerance(options: StepperOptions): number {
  const r = minRtol(options);
  return Math.max((10 * EPS) / r, Math.min(0.03, Math.sqrt(r)));
}

/** True when every entry is finite. */
export function allFinite(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/** Prefix for failure messages: names the method and the time. */
export function failAt(method: string, t: number, h: number, cause: string): string {
  return `${method}: at t = ${t}, step h = ${h.toExponential(3)}: ${cause}`;
}

/**
 * Outcome when the step size has fallen below the resolution of t. When the last rejection came from
 * non-finite values of f, that is the cause to report (f is undefined beyond this point), not the tolerances.
 */
export function underflowOutcome(
  method: string,
  t: number,
  h: number,
  nonFinite: boolean,
): {
  readonly kind: 'failed';
  readonly code: 'stepSizeUnderflow' | 'nonFiniteDerivative';
  readonly message: string;
} {
  return nonFinite
    ? {
        kind: 'failed',
        code: 'nonFiniteDerivative',
        message: failAt(
          method,
          t,
          h,
          'f returned non-finite values at every trial step down to the resolution of t',
        ),
      }
    : {
        kind: 'failed',
        code: 'stepSizeUnderflow',
        message: failAt(
          method,
          t,
          h,
          'step size fell below the resolution of t; the tolerances cannot be met (the solution may blow up or f may be discontinuous here)',
        ),
      };
}
