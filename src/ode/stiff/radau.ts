/**
 * Radau IIA of order 5 (three stages), after Hairer & Wanner's RADAU5.
 *
 * References: E. Hairer & G. Wanner, Solving Ordinary Differential Equations II, 2nd ed., §IV.8 (Springer
 * 1996); E. Hairer & G. Wanner, "Stiff differential equations solved by Radau methods", J. Comput. Appl. Math.
 * 111 (1999) 93–111.
 *
 * - The 3n-dimensional collocation system is solved by simplified Newton iterations in the eigenbasis of A⁻¹:
 *   one real LU of (μ_real/h·I − J) and one complex LU of (μ_complex/h·I − J) per step size.
 * - The starting guess extrapolates the previous step's collocation polynomial.
 * - The Jacobian is reused across steps and re-evaluated only when Newton converged slowly; the LU factors
 *   are kept while the proposed step would grow by less than 20% (the step is then held fixed).
 * - Newton may stop after one iteration when the contraction factor rate/(1 − rate) remembered from earlier
 *   steps (relaxed towards 1 by a power 0.8 at each step) says the first correction already meets the
 *   tolerance.
 * - The error estimate is the embedded order-3 formula filtered through (μ_real/h·I − J)⁻¹; on the first step
 *   and after a rejection it is filtered once more through f, which removes the spurious growth of stiff
 *   components (Hairer & Wanner, eq. 8.20–8.21).
 * - Step sizes follow Gustafsson's predictive controller.
 */
import { denseLinearSolver, type LinearSolverFactory, type ShiftedLinearSolver } from '../../linalg/index.js';
import { selectInitialStep } from '../initial-step.js';
import { PolynomialPiece } from '../interpolants.js';
import type { Dynamics, Interpolant, MethodFactory, StepOutcome, Stepper, StepperOptions } from '../types.js';
import {
  allFinite,
  EPS,
  failAt,
  fillScale,
  minStepAt,
  newtonTolerance,
  StepperInterpolant,
  stepEnd,
  underflowOutcome,
} from './common.js';
import { JacobianEvaluator } from './jacobian.js';
import {
  RADAU_C,
  RADAU_E,
  RADAU_MU_COMPLEX_IM,
  RADAU_MU_COMPLEX_RE,
  RADAU_MU_REAL,
  RADAU_P,
  RADAU_T,
  RADAU_TI,
} from './radau-tableau.js';

const NEWTON_MAX_ITER = 6;
const MIN_FACTOR = 0.2;
const MAX_FACTOR = 10;
/** Consecutive step halvings after Newton failures (with a fresh Jacobian) before giving up. */
const MAX_NEWTON_FAILURES = 20;
/** Consecutive singular iteration matrices (each followed by a halving) before giving up. */
const MAX_SINGULAR = 8;

const [C0, C1, C2] = RADAU_C;
const [T00, T01, T02, T10, T11, T12, T20, T21, T22] = RADAU_T;
const [I00, I01, I02, I10, I11, I12, I20, I21, I22] = RADAU_TI;
const [E0, E1, E2] = RADAU_E;

export interface RadauOptions {
  /** Backend for the real and complex shifted systems (default: dense LU). */
  readonly linearSolver?: LinearSolverFactory;
}

class RadauStepper implements Stepper {
  readonly method = 'radau';
  readonly order = 5;
  t: number;
  tPrev: number;
  readonly y: Float64Array;

  private readonly n: number;
  private readonly fy: Float64Array;
  private readonly yPrev: Float64Array;
  /** Stage increments Z_j = Y_j − y_n of the last accepted step, stacked (3n). */
  private readonly z: Float64Array;
  private readonly zNew: Float64Array;
  private readonly w: Float64Array;
  private readonly dw: Float64Array;
  private readonly fStage: Float64Array;
  private readonly yStage: Float64Array;
  private readonly scale: Float64Array;
  private readonly err: Float64Array;
  private readonly work: Float64Array;
  private readonly ze: Float64Array;
  private readonly real: ShiftedLinearSolver;
  private readonly complex: ShiftedLinearSolver;
  private readonly jacobian: JacobianEvaluator;
  private readonly newtonTol: number;
  private readonly dense: StepperInterpolant;
  /** Views of the stacked 3n vectors (made once: no allocation while stepping). */
  private readonly zNewParts: readonly Float64Array[];
  private readonly fParts: readonly Float64Array[];
  private readonly dwParts: readonly Float64Array[];

  private hAbs: number;
  private hLast = 0;
  private hAbsOld = 0;
  private errNormOld = 0;
  private hasHistory = false;
  private luH = Number.NaN;
  private jacValid = false;
  private jacCurrent = false;
  private newtonIter = 0;
  private newtonRate = 0;
  /** rate/(1 − rate) of the last Newton iteration that measured a rate (RADAU5's FACCON). */
  private faccon = 1;
  private newtonNonFinite = false;

  constructor(
    private readonly f: Dynamics,
    t0: number,
    y0: Float64Array,
    private readonly tEnd: number,
    private readonly options: StepperOptions,
    linearSolver: LinearSolverFactory,
  ) {
    const n = y0.length;
    this.n = n;
    this.t = t0;
    this.tPrev = t0;
    this.y = Float64Array.from(y0);
    this.fy = new Float64Array(n);
    this.yPrev = Float64Array.from(y0);
    this.z = new Float64Array(3 * n);
    this.zNew = new Float64Array(3 * n);
    this.w = new Float64Array(3 * n);
    this.dw = new Float64Array(3 * n);
    this.fStage = new Float64Array(3 * n);
    this.yStage = new Float64Array(n);
    this.scale = new Float64Array(n);
    this.err = new Float64Array(n);
    this.work = new Float64Array(n);
    this.ze = new Float64Array(n);
    this.real = linearSolver(n, false);
    this.complex = linearSolver(n, true);
    this.jacobian = new JacobianEvaluator(f, n, options.jacobian, options.stats, options.atol);
    this.newtonTol = newtonTolerance(options);
    this.dense = new StepperInterpolant(this);
    const parts = (v: Float64Array) => [0, 1, 2].map((j) => v.subarray(j * n, (j + 1) * n));
    this.zNewParts = parts(this.zNew);
    this.fParts = parts(this.fStage);
    this.dwParts = parts(this.dw);
    this.hAbs = 0;
    this.restart(t0, y0);
  }

  restart(t: number, y: Float64Array): void {
    this.t = t;
    this.tPrev = t;
    this.y.set(y);
    this.yPrev.set(y);
    this.hLast = 0;
    this.hasHistory = false;
    this.jacValid = false;
    this.jacCurrent = false;
    this.luH = Number.NaN;
    this.faccon = 1;
    this.hAbsOld = 0;
    this.errNormOld = 0;
    if (this.n === 0) {
      this.hAbs = this.tEnd - t;
      return;
    }
    this.f(t, this.y, this.fy);
    this.hAbs =
      this.options.fixedStep ??
      this.options.firstStep ??
      selectInitialStep(
        this.f,
        t,
        this.y,
        this.fy,
        this.tEnd - t,
        3,
        this.options,
        this.scale,
        this.work,
        this.err,
      );
    this.hAbs = Math.min(this.hAbs, this.options.maxStep);
  }

  interpolant(): Interpolant {
    this.dense.t0 = this.tPrev;
    this.dense.t1 = this.t;
    return this.dense;
  }

  /** Collocation polynomial of the last accepted step at t (also used to extrapolate the next guess). */
  denseAt(t: number, out: Float64Array): void {
    const { n, yPrev, z } = this;
    if (this.hLast === 0) {
      out.set(this.y);
      return;
    }
    const x = (t - this.tPrev) / this.hLast;
    const x2 = x * x;
    const x3 = x2 * x;
    const [p00, p01, p02, p10, p11, p12, p20, p21, p22] = RADAU_P;
    for (let i = 0; i < n; i++) {
      const z0 = z[i];
      const z1 = z[n + i];
      const z2 = z[2 * n + i];
      const q0 = z0 * p00 + z1 * p10 + z2 * p20;
      const q1 = z0 * p01 + z1 * p11 + z2 * p21;
      const q2 = z0 * p02 + z1 * p12 + z2 * p22;
      out[i] = yPrev[i] + q0 * x + q1 * x2 + q2 * x3;
    }
  }

  /** The collocation polynomial of the last step as a standalone piece (coefficients in θ = x). */
  freezeDense(): Interpolant {
    const { n, yPrev, z } = this;
    const coeffs = new Float64Array(4 * n);
    if (this.hLast === 0) {
      coeffs.set(this.y);
      return new PolynomialPiece(this.tPrev, this.t, n, coeffs);
    }
    const [p00, p01, p02, p10, p11, p12, p20, p21, p22] = RADAU_P;
    for (let i = 0; i < n; i++) {
      const z0 = z[i];
      const z1 = z[n + i];
      const z2 = z[2 * n + i];
      coeffs[i] = yPrev[i];
      coeffs[n + i] = z0 * p00 + z1 * p10 + z2 * p20;
      coeffs[2 * n + i] = z0 * p01 + z1 * p11 + z2 * p21;
      coeffs[3 * n + i] = z0 * p02 + z1 * p12 + z2 * p22;
    }
    return new PolynomialPiece(this.tPrev, this.t, n, coeffs);
  }

  step(tLimit: number): StepOutcome {
    const { n, options } = this;
    const stats = options.stats;
    if (n === 0) {
      this.tPrev = this.t;
      this.t = tLimit;
      stats.nsteps++;
      stats.naccept++;
      return { kind: 'accepted' };
    }
    const { y, fy, zNew, err, work, scale, ze } = this;
    let rejected = false;
    let nonFiniteRejection = false;
    let newtonFailures = 0;
    let singular = 0;
    for (;;) {
      const t = this.t;
      if (this.hAbs < minStepAt(t)) {
        return underflowOutcome('radau', t, this.hAbs, nonFiniteRejection);
      }
      const tNew = stepEnd(t, this.hAbs, tLimit);
      const h = tNew - t;

      // Starting guess: the last collocation polynomial extrapolated to the new nodes (zero on a fresh start).
      if (this.hasHistory) {
        for (let j = 0; j < 3; j++) {
          const sub = this.zNewParts[j];
          this.denseAt(t + RADAU_C[j] * h, sub);
          for (let i = 0; i < n; i++) sub[i] -= y[i];
        }
      } else {
        zNew.fill(0);
      }
      fillScale(scale, options, y, y);

      let converged = false;
      let factorFailed = false;
      for (;;) {
        if (!this.jacValid) {
          if (!this.jacobian.evaluate(t, y, fy)) {
            return {
              kind: 'failed',
              code: 'nonFiniteDerivative',
              message: failAt('radau', t, h, this.jacobian.nonFiniteMessage()),
            };
          }
          this.jacValid = true;
          this.jacCurrent = true;
        }
        if (this.luH !== h) {
          const jac = this.jacobian.jac;
          stats.nlu += 2;
          const okReal = this.real.factor(jac, RADAU_MU_REAL / h, 0);
          const okComplex =
            okReal && this.complex.factor(jac, RADAU_MU_COMPLEX_RE / h, RADAU_MU_COMPLEX_IM / h);
          if (!okComplex) {
            this.luH = Number.NaN;
            factorFailed = true;
            break;
          }
          this.luH = h;
        }
        converged = this.solveCollocation(t, h);
        if (converged || this.jacCurrent) break;
        this.jacValid = false;
      }
      if (factorFailed) {
        if (++singular > MAX_SINGULAR) {
          return {
            kind: 'failed',
            code: 'singularMatrix',
            message: failAt(
              'radau',
              t,
              h,
              `the iteration matrix μ/h·I − J is singular (${singular} step halvings did not help)`,
            ),
          };
        }
        this.hAbs = h * 0.5;
        continue;
      }
      if (!converged) {
        stats.nsteps++;
        stats.nreject++;
        if (++newtonFailures > MAX_NEWTON_FAILURES) {
          return {
            kind: 'failed',
            code: this.newtonNonFinite ? 'nonFiniteDerivative' : 'newtonDiverged',
            message: failAt(
              'radau',
              t,
              h,
              this.newtonNonFinite
                ? `f returned a non-finite value at every trial step (${newtonFailures} halvings)`
                : `the simplified Newton iteration diverged after ${newtonFailures} step halvings with a fresh Jacobian`,
            ),
          };
        }
        this.hAbs = h * 0.5;
        rejected = true;
        nonFiniteRejection = this.newtonNonFinite;
        continue;
      }

      // Error estimate: err = (μ_real/h·I − J)⁻¹ (f(y_n) + Σ E_j Z_j / h).
      const [z0, z1, z2] = this.zNewParts;
      for (let i = 0; i < n; i++) {
        ze[i] = (E0 * z0[i] + E1 * z1[i] + E2 * z2[i]) / h;
        err[i] = fy[i] + ze[i];
        work[i] = y[i] + z2[i];
      }
      this.real.solve(err);
      fillScale(scale, options, y, work);
      let errNorm = options.norm(err, scale);
      const safety = (0.9 * (2 * NEWTON_MAX_ITER + 1)) / (2 * NEWTON_MAX_ITER + this.newtonIter);
      if (errNorm > 1 && (rejected || !this.hasHistory)) {
        // Filter once more through f: stiff components of the first estimate can be wildly pessimistic.
        const yErr = this.yStage;
        for (let i = 0; i < n; i++) yErr[i] = y[i] + err[i];
        this.f(t, yErr, err);
        for (let i = 0; i < n; i++) err[i] += ze[i];
        this.real.solve(err);
        errNorm = options.norm(err, scale);
      }
      if (!(errNorm <= 1) && options.fixedStep === undefined) {
        stats.nsteps++;
        stats.nreject++;
        const factor = Number.isFinite(errNorm) ? this.predictFactor(h, errNorm) : MIN_FACTOR;
        this.hAbs = h * Math.max(MIN_FACTOR, safety * factor);
        rejected = true;
        nonFiniteRejection = !Number.isFinite(errNorm);
        continue;
      }

      // Accepted.
      stats.nsteps++;
      stats.naccept++;
      const recomputeJac = this.newtonIter > 2 && this.newtonRate > 1e-3;
      let factor = Math.min(MAX_FACTOR, safety * this.predictFactor(h, errNorm));
      // Hold the step (and the LU factors) when it would grow only a little.
      if (rejected) factor = Math.min(factor, 1);
      if (!recomputeJac && factor >= 1 && factor < 1.2) factor = 1;
      this.yPrev.set(y);
      y.set(work);
      this.z.set(zNew);
      this.tPrev = t;
      this.t = tNew;
      this.hLast = h;
      this.hasHistory = true;
      this.f(tNew, y, fy);
      if (recomputeJac) {
        // A non-finite Jacobian here is caught (and reported) at the next step.
        this.jacValid = this.jacobian.evaluate(tNew, y, fy);
        this.jacCurrent = this.jacValid;
      } else {
        this.jacCurrent = false;
      }
      this.hAbsOld = h;
      this.errNormOld = errNorm;
      this.hAbs = Math.min(h * factor, options.maxStep);
      if (options.fixedStep !== undefined) this.hAbs = options.fixedStep;
      return { kind: 'accepted' };
    }
  }

  /** Gustafsson's predictive controller (Hairer & Wanner, eq. IV.8.25), without safety factor. */
  private predictFactor(h: number, errNorm: number): number {
    if (errNorm === 0) return MAX_FACTOR;
    const basic = errNorm ** -0.25;
    if (this.hAbsOld === 0 || this.errNormOld === 0) return basic;
    const multiplier = (h / this.hAbsOld) * (this.errNormOld / errNorm) ** 0.25;
    return Math.min(1, multiplier) * basic;
  }

  /**
   * Simplified Newton on the transformed collocation system, starting from `zNew`; on success `zNew` holds
   * the stage increments. Records the iteration count and contraction rate.
   */
  private solveCollocation(t: number, h: number): boolean {
    const { n, f, y, zNew, w, dw, fStage, yStage, scale, options } = this;
    const mr = RADAU_MU_REAL / h;
    const mcr = RADAU_MU_COMPLEX_RE / h;
    const mci = RADAU_MU_COMPLEX_IM / h;
    const tol = this.newtonTol;
    for (let i = 0; i < n; i++) {
      const a = zNew[i];
      const b = zNew[n + i];
      const c = zNew[2 * n + i];
      w[i] = I00 * a + I01 * b + I02 * c;
      w[n + i] = I10 * a + I11 * b + I12 * c;
      w[2 * n + i] = I20 * a + I21 * b + I22 * c;
    }
    let normOld = 0;
    let rate = 0;
    // The factor remembered from earlier steps, relaxed towards 1 each step, lets a good starting guess
    // converge after one iteration (RADAU5's rule); later iterations use the rate they measure.
    this.faccon = Math.max(this.faccon, EPS) ** 0.8;
    let faccon = this.faccon;
    this.newtonNonFinite = false;
    const [f0, f1, f2] = this.fParts;
    const [dwReal, dwRe, dwIm] = this.dwParts;
    for (let k = 0; k < NEWTON_MAX_ITER; k++) {
      this.newtonIter = k + 1;
      for (let i = 0; i < n; i++) yStage[i] = y[i] + zNew[i];
      f(t + C0 * h, yStage, f0);
      for (let i = 0; i < n; i++) yStage[i] = y[i] + zNew[n + i];
      f(t + C1 * h, yStage, f1);
      for (let i = 0; i < n; i++) yStage[i] = y[i] + zNew[2 * n + i];
      f(t + C2 * h, yStage, f2);
      if (!allFinite(fStage)) {
        this.newtonNonFinite = true;
        return false;
      }
      for (let i = 0; i < n; i++) {
        const a = f0[i];
        const b = f1[i];
        const c = f2[i];
        const w0 = w[i];
        const w1 = w[n + i];
        const w2 = w[2 * n + i];
        dwReal[i] = I00 * a + I01 * b + I02 * c - mr * w0;
        dwRe[i] = I10 * a + I11 * b + I12 * c - (mcr * w1 - mci * w2);
        dwIm[i] = I20 * a + I21 * b + I22 * c - (mcr * w2 + mci * w1);
      }
      this.real.solve(dwReal);
      this.complex.solve(dwRe, dwIm);
      const n0 = options.norm(dwReal, scale);
      const n1 = options.norm(dwRe, scale);
      const n2 = options.norm(dwIm, scale);
      const dwNorm = Math.sqrt((n0 * n0 + n1 * n1 + n2 * n2) / 3);
      if (!Number.isFinite(dwNorm)) return false;
      if (k > 0) {
        rate = dwNorm / normOld;
        this.newtonRate = rate;
        // Diverging, or converging too slowly to reach the tolerance within the remaining iterations.
        if (rate >= 1 || (rate ** (NEWTON_MAX_ITER - k) / (1 - rate)) * dwNorm > tol) {
          this.faccon = 1;
          return false;
        }
        faccon = rate / (1 - rate);
        this.faccon = faccon;
      }
      for (let i = 0; i < 3 * n; i++) w[i] += dw[i];
      for (let i = 0; i < n; i++) {
        const a = w[i];
        const b = w[n + i];
        const c = w[2 * n + i];
        zNew[i] = T00 * a + T01 * b + T02 * c;
        zNew[n + i] = T10 * a + T11 * b + T12 * c;
        zNew[2 * n + i] = T20 * a + T21 * b + T22 * c;
      }
      if (dwNorm === 0 || faccon * dwNorm < tol) {
        if (k === 0) this.newtonRate = 0;
        return true;
      }
      normOld = dwNorm;
    }
    return false;
  }
}

/** Build the Radau IIA (order 5) method with a chosen linear-solver backend. */
export function createRadauMethod(radauOptions: RadauOptions = {}): MethodFactory {
  const linearSolver = radauOptions.linearSolver ?? denseLinearSolver;
  return Object.freeze({
    name: 'radau',
    fixedStep: false,
    stiff: true,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, options: StepperOptions): Stepper =>
      new RadauStepper(f, t0, y0, tEnd, options, linearSolver),
  });
}

/** Radau IIA of order 5 with dense LU: the `'radau'` method. */
export const radauMethod: MethodFactory = createRadauMethod();
