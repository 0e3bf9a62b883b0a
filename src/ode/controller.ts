/**
 * Step-size controllers for embedded Runge–Kutta pairs.
 *
 * {@link PidController} implements the family of Söderlind (ACM TOMS 29 (2003) 1–26) in the parametrisation
 * of diffrax: with q the order of the error estimate, k = q + 1 and error norms e_n (this step), e_{n-1},
 * e_{n-2}, the factor is
 *   safety · e_n^(−β1/k) · e_{n−1}^(−β2/k) · e_{n−2}^(−β3/k),
 *   β1 = p + i + d, β2 = −(p + 2d), β3 = d,
 * clipped to [minFactor, maxFactor]. The default p = 0, i = 1, d = 0 is the classical "I" controller of
 * SciPy's RK45/DOP853 and MATLAB's ode45. It is the default because it reproduces their step sequences, and
 * hence their evaluation counts, exactly, which keeps comparisons meaningful. PI control ({@link piController}
 * gives Hairer's DOPRI5 setting) smooths the step sequence where the step size is limited by stability.
 *
 * Rules shared by all settings: a rejected step is retried with the pure I factor (history is not trusted
 * across a rejection) and never grows; the first accepted step after a rejection does not grow either
 * (Hairer's "facold" rule), which avoids reject/accept cycles.
 *
 * Step-size decisions are not differentiated: the step sequence is a constant of the solve. Differentiating
 * it would add terms that are zero almost everywhere and discontinuous where accept/reject flips.
 */
import type { StepSizeController } from './types.js';

export interface PidControllerOptions {
  /** Proportional coefficient (default 0). */
  readonly pcoeff?: number;
  /** Integral coefficient (default 1). */
  readonly icoeff?: number;
  /** Derivative coefficient (default 0). */
  readonly dcoeff?: number;
  /** Safety factor applied to every proposal (default 0.9). */
  readonly safety?: number;
  /** Smallest factor per step, also after a rejection (default 0.2). */
  readonly minFactor?: number;
  /** Largest factor per step (default 10). */
  readonly maxFactor?: number;
}

export class PidController implements StepSizeController {
  readonly pcoeff: number;
  readonly icoeff: number;
  readonly dcoeff: number;
  readonly safety: number;
  readonly minFactor: number;
  readonly maxFactor: number;
  private errPrev = 1;
  private errPrevPrev = 1;

  constructor(options: PidControllerOptions = {}) {
    this.pcoeff = options.pcoeff ?? 0;
    this.icoeff = options.icoeff ?? 1;
    this.dcoeff = options.dcoeff ?? 0;
    this.safety = options.safety ?? 0.9;
    this.minFactor = options.minFactor ?? 0.2;
    this.maxFactor = options.maxFactor ?? 10;
    const bad = (
      [
        ['safety', this.safety, 0, 1],
        ['minFactor', this.minFactor, 0, 1],
        ['maxFactor', this.maxFactor, 1, Number.POSITIVE_INFINITY],
      ] as const
    ).find(([, v, lo, hi]) => !(v > lo && v <= hi));
    if (bad !== undefined) {
      throw new RangeError(`PidController: ${bad[0]} = ${bad[1]} must lie in (${bad[2]}, ${bad[3]}]`);
    }
    if (![this.pcoeff, this.icoeff, this.dcoeff].every(Number.isFinite)) {
      throw new RangeError('PidController: pcoeff, icoeff and dcoeff must be finite numbers');
    }
  }

  reset(): void {
    this.errPrev = 1;
    this.errPrevPrev = 1;
  }

  accept(errorNorm: number, errorOrder: number, afterReject: boolean): number {
    const k = errorOrder + 1;
    let factor: number;
    if (errorNorm === 0) {
      factor = this.maxFactor;
    } else {
      const beta1 = this.pcoeff + this.icoeff + this.dcoeff;
      const beta2 = -(this.pcoeff + 2 * this.dcoeff);
      const beta3 = this.dcoeff;
      factor = this.safety * errorNorm ** (-beta1 / k);
      if (beta2 !== 0) factor *= this.errPrev ** (-beta2 / k);
      if (beta3 !== 0) factor *= this.errPrevPrev ** (-beta3 / k);
      factor = Math.min(this.maxFactor, Math.max(this.minFactor, factor));
    }
    if (afterReject) factor = Math.min(1, factor);
    // Floor the stored norm so a lucky near-zero error does not dominate the next proposals.
    this.errPrevPrev = this.errPrev;
    this.errPrev = Math.max(errorNorm, 1e-4);
    return factor;
  }

  reject(errorNorm: number, errorOrder: number): number {
    if (!Number.isFinite(errorNorm)) return this.minFactor;
    return Math.max(this.minFactor, Math.min(1, this.safety * errorNorm ** (-1 / (errorOrder + 1))));
  }
}

/**
 * Hairer's PI controller of DOPRI5/DOP853 (Solving ODEs II §IV.2): factor = safety·e_n^(−α)·e_{n−1}^β with
 * β = 0.04 and α = 1/k − 0.75β, k = errorOrder + 1. In the PID parametrisation above this is p = βk,
 * i = 1 − 1.75βk, d = 0.
 */
export function piController(
  options: { beta?: number; errorOrder: number } & PidControllerOptions,
): PidController {
  const beta = options.beta ?? 0.04;
  const k = options.errorOrder + 1;
  return new PidController({ ...options, pcoeff: beta * k, icoeff: 1 - 1.75 * beta * k, dcoeff: 0 });
}
