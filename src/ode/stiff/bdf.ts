/**
 * Variable-order (1–5), variable-step BDF/NDF in quasi-constant-step form, after LSODE/VODE and SciPy's BDF.
 *
 * References: L. F. Shampine & M. W. Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18 (1997) 1–22
 * (NDF coefficients κ, the difference-array formulation and step changes by interpolating the differences);
 * A. C. Hindmarsh, "ODEPACK, a systematized collection of ODE solvers" (1983) and P. N. Brown, G. D. Byrne &
 * A. C. Hindmarsh, "VODE" (1989) (Newton convergence-rate memory, the 2/(1+rc) correction and refactoring
 * only when the step coefficient drifts by more than 30%).
 *
 * State: the modified divided differences D[0..k+2] of past solution values on a grid of constant spacing h
 * (D[0] = y_n, D[j] = ∇^j y_n). A step-size change re-interpolates D onto the new grid (matrix R·U), so the
 * formulas stay those of constant steps.
 *
 * Work policy, chosen to keep f, Jacobian and LU counts low:
 *  - the Jacobian is kept until a Newton iteration fails to converge with it;
 *  - the LU of I − c·J is kept while c = h/α_k stays within 30% of the value it was factored with; the
 *    Newton correction is then scaled by 2/(1 + c/c_LU) (VODE);
 *  - the Newton contraction rate is remembered across steps (and reset with each new LU), so a step can
 *    converge after one iteration; convergence is judged against the local error test, as in LSODE;
 *  - with an analytic Jacobian, f is not evaluated at the predictor just for the Jacobian.
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
  minRtol,
  minStepAt,
  StepperInterpolant,
  stepEnd,
  underflowOutcome,
} from './common.js';
import { JacobianEvaluator } from './jacobian.js';

const MAX_ORDER = 5;
const NEWTON_MAX_ITER = 4;
const MIN_FACTOR = 0.2;
const MAX_FACTOR = 10;
const MAX_NEWTON_FAILURES = 20;
const MAX_SINGULAR = 8;
/**
 * Corrector convergence at order k: the iteration error left in the correction, times the error constant,
 * must stay below NEWTON_CONIT/(k + 2) of the local error tolerance. This is LSODE's form of the test, with
 * 0.15 in place of its 0.5: at 0.5 the unconverged corrections let Robertson's y₁ drift negative and blow up
 * at rtol 1e-4, and 0.15 keeps BDF's global error on a linear test within the same tolerance units as the
 * stricter test it replaces.
 */
const NEWTON_CONIT = 0.15;
/** Contraction rate assumed after a restart or a failure, before the iteration has measured one. */
const RATE_RESET = 0.7;
/**
 * Floor of the remembered rate: a single iteration is accepted only if its correction is small in absolute
 * terms (error constant × correction below NEWTON_CONIT / ((k + 2)·1.5·RATE_FLOOR) in the error norm).
 */
const RATE_FLOOR = 0.05;
/** Refactor I − c·J only when c has drifted by more than this fraction since the last factorisation. */
const REFACTOR_DRIFT = 0.3;

/** NDF modifiers κ_k (Shampine & Reichelt, Table 1; κ_5 = 0 keeps order 5 a plain BDF). */
const KAPPA = [0, -0.185, -1 / 9, -0.0823, -0.0415, 0];
/** γ_k = Σ_{j≤k} 1/j. */
const GAMMA = [0, 1, 1.5, 11 / 6, 25 / 12, 137 / 60];
/** α_k = (1 − κ_k)·γ_k. */
const ALPHA = KAPPA.map((kappa, k) => (1 - kappa) * GAMMA[k]);
/** Local error constants κ_k·γ_k + 1/(k+1). */
const ERROR_CONST = KAPPA.map((kappa, k) => kappa * GAMMA[k] + 1 / (k + 1));

const DIM = MAX_ORDER + 1;

/** R(order, factor) (row-major DIM×DIM): re-interpolation of differences for a step ratio `factor`. */
function fillR(order: number, factor: number, out: Float64Array): void {
  for (let j = 0; j <= order; j++) out[j] = 1;
  for (let i = 1; i <= order; i++) {
    out[i * DIM] = 0;
    for (let j = 1; j <= order; j++) out[i * DIM + j] = (out[(i - 1) * DIM + j] * (i - 1 - factor * j)) / i;
  }
}

/** U = R(order, 1) for each order, computed once. */
const U_MATRICES: readonly Float64Array[] = Array.from({ length: DIM }, (_, order) => {
  const u = new Float64Array(DIM * DIM);
  fillR(order, 1, u);
  return u;
});

export interface BdfOptions {
  /** Highest order used (1–5, default 5). */
  readonly maxOrder?: number;
  readonly linearSolver?: LinearSolverFactory;
}

class BdfStepper implements Stepper {
  readonly method = 'bdf';
  t: number;
  tPrev: number;
  readonly y: Float64Array;

  private readonly n: number;
  /** Differences D[0..MAX_ORDER+2], each of length n. */
  private readonly d: Float64Array;
  private readonly dScratch: Float64Array;
  private readonly rMatrix = new Float64Array(DIM * DIM);
  private readonly ruMatrix = new Float64Array(DIM * DIM);
  private readonly fy: Float64Array;
  private readonly yPredict: Float64Array;
  private readonly psi: Float64Array;
  private readonly corr: Float64Array;
  private readonly dy: Float64Array;
  private readonly yNew: Float64Array;
  private readonly scale: Float64Array;
  private readonly work: Float64Array;
  private readonly solver: ShiftedLinearSolver;
  private readonly jacobian: JacobianEvaluator;
  private readonly newtonTol: number;
  private readonly dense: StepperInterpolant;

  private orderNow = 1;
  private hAbs = 0;
  /** Spacing of the grid D currently represents. */
  private hGrid = 0;
  private nEqualSteps = 0;
  private cLu = Number.NaN;
  private jacValid = false;
  private jacCurrent = false;
  private rate = RATE_RESET;
  private newtonIter = 0;
  private newtonNonFinite = false;

  constructor(
    private readonly f: Dynamics,
    t0: number,
    y0: Float64Array,
    private readonly tEnd: number,
    private readonly options: StepperOptions,
    private readonly maxOrder: number,
    linearSolver: LinearSolverFactory,
  ) {
    const n = y0.length;
    this.n = n;
    this.t = t0;
    this.tPrev = t0;
    this.y = Float64Array.from(y0);
    this.d = new Float64Array((MAX_ORDER + 3) * n);
    this.dScratch = new Float64Array(DIM * n);
    this.fy = new Float64Array(n);
    this.yPredict = new Float64Array(n);
    this.psi = new Float64Array(n);
    this.corr = new Float64Array(n);
    this.dy = new Float64Array(n);
    this.yNew = new Float64Array(n);
    this.scale = new Float64Array(n);
    this.work = new Float64Array(n);
    this.solver = linearSolver(n, false);
    this.jacobian = new JacobianEvaluator(f, n, options.jacobian, options.stats, options.atol);
    // Roundoff floor of the corrector test (the test itself is relative to the local error tolerance).
    this.newtonTol = (10 * EPS) / minRtol(options);
    this.dense = new StepperInterpolant(this);
    this.restart(t0, y0);
  }

  get order(): number {
    return this.orderNow;
  }

  restart(t: number, y: Float64Array): void {
    const { n, options } = this;
    this.t = t;
    this.tPrev = t;
    this.y.set(y);
    this.orderNow = 1;
    this.nEqualSteps = 0;
    this.cLu = Number.NaN;
    this.jacValid = false;
    this.jacCurrent = false;
    this.rate = RATE_RESET;
    this.d.fill(0);
    if (n === 0) return;
    this.f(t, this.y, this.fy);
    let h =
      options.fixedStep ??
      options.firstStep ??
      selectInitialStep(
        this.f,
        t,
        this.y,
        this.fy,
        this.tEnd - t,
        1,
        options,
        this.scale,
        this.work,
        this.yNew,
      );
    h = Math.min(h, options.maxStep);
    this.hAbs = h;
    this.hGrid = h;
    this.d.set(this.y, 0);
    for (let i = 0; i < n; i++) this.d[n + i] = h * this.fy[i];
  }

  interpolant(): Interpolant {
    this.dense.t0 = this.tPrev;
    this.dense.t1 = this.t;
    return this.dense;
  }

  /** Interpolating polynomial through the last order+1 grid points, evaluated at t. */
  denseAt(t: number, out: Float64Array): void {
    const { n, d } = this;
    for (let i = 0; i < n; i++) out[i] = d[i];
    if (this.t === this.tPrev) return;
    const h = this.hGrid;
    let p = 1;
    for (let j = 1; j <= this.orderNow; j++) {
      // Newton form on the backward grid t, t − h, …: p_j = Π_{m<j} (t_q − (t − m·h)) / ((m+1)·h).
      p *= (t - (this.t - (j - 1) * h)) / (j * h);
      const off = j * n;
      for (let i = 0; i < n; i++) out[i] += d[off + i] * p;
    }
  }

  /**
   * The polynomial of {@link denseAt} as a standalone piece over [tPrev, t]: with t = tPrev + θ·H each
   * Newton factor (t − (t_n − (m−1)h))/(m·h) is linear in θ, so the basis polynomials expand exactly.
   */
  freezeDense(): Interpolant {
    const { n, d } = this;
    const k = this.orderNow;
    const coeffs = new Float64Array((k + 1) * n);
    for (let i = 0; i < n; i++) coeffs[i] = d[i];
    const span = this.t - this.tPrev;
    if (span === 0) return new PolynomialPiece(this.tPrev, this.t, n, coeffs.subarray(0, n));
    const h = this.hGrid;
    // basis[q] = coefficient of θ^q in p_j, updated factor by factor.
    const basis = new Float64Array(k + 1);
    basis[0] = 1;
    for (let j = 1; j <= k; j++) {
      const a = span / (j * h);
      const b = ((j - 1) * h - span) / (j * h);
      for (let q = j; q >= 0; q--) basis[q] = (q > 0 ? a * basis[q - 1] : 0) + b * basis[q];
      const off = j * n;
      for (let q = 0; q <= j; q++) {
        const c = basis[q];
        if (c === 0) continue;
        const dst = q * n;
        for (let i = 0; i < n; i++) coeffs[dst + i] += c * d[off + i];
      }
    }
    return new PolynomialPiece(this.tPrev, this.t, n, coeffs);
  }

  /** Re-interpolate D[0..order] onto a grid with spacing multiplied by `factor`. */
  private changeGrid(factor: number): void {
    const { n, d, dScratch, rMatrix, ruMatrix } = this;
    const k = this.orderNow;
    fillR(k, factor, rMatrix);
    const u = U_MATRICES[k];
    for (let i = 0; i <= k; i++) {
      for (let j = 0; j <= k; j++) {
        let s = 0;
        for (let m = 0; m <= k; m++) s += rMatrix[i * DIM + m] * u[m * DIM + j];
        ruMatrix[i * DIM + j] = s;
      }
    }
    // D_new[j] = Σ_i RU[i][j] D[i]
    for (let j = 0; j <= k; j++) {
      const dst = j * n;
      for (let x = 0; x < n; x++) dScratch[dst + x] = 0;
      for (let i = 0; i <= k; i++) {
        const c = ruMatrix[i * DIM + j];
        if (c === 0) continue;
        const src = i * n;
        for (let x = 0; x < n; x++) dScratch[dst + x] += c * d[src + x];
      }
    }
    for (let x = 0; x < (k + 1) * n; x++) d[x] = dScratch[x];
    this.hGrid *= factor;
    this.nEqualSteps = 0;
  }

  step(tLimit: number): StepOutcome {
    const { n, options, d, yPredict, psi, scale, yNew } = this;
    const stats = options.stats;
    if (n === 0) {
      this.tPrev = this.t;
      this.t = tLimit;
      stats.nsteps++;
      stats.naccept++;
      return { kind: 'accepted' };
    }
    if (this.hAbs > options.maxStep) {
      this.changeGrid(options.maxStep / this.hAbs);
      this.hAbs = options.maxStep;
    }
    let newtonFailures = 0;
    let nonFiniteRejection = false;
    let errorFailures = 0;
    let singular = 0;
    for (;;) {
      const t = this.t;
      const k = this.orderNow;
      if (this.hAbs < minStepAt(t)) {
        return underflowOutcome('bdf', t, this.hAbs, nonFiniteRejection);
      }
      const tNew = stepEnd(t, this.hAbs, tLimit);
      const h = tNew - t;
      if (h !== this.hAbs) {
        this.changeGrid(h / this.hAbs);
        this.hAbs = h;
      }
      // Predictor and the history term ψ of the NDF corrector equation.
      yPredict.fill(0);
      psi.fill(0);
      for (let j = 0; j <= k; j++) {
        const off = j * n;
        const g = GAMMA[j] / ALPHA[k];
        for (let i = 0; i < n; i++) {
          const dj = d[off + i];
          yPredict[i] += dj;
          if (j > 0) psi[i] += g * dj;
        }
      }
      fillScale(scale, options, yPredict, yPredict);
      const c = h / ALPHA[k];

      let converged = false;
      let factorFailed = false;
      for (;;) {
        if (!this.jacValid) {
          // Finite differences need f at the predictor; an analytic Jacobian does not.
          if (this.jacobian.numerical) this.f(tNew, yPredict, this.fy);
          if (!this.jacobian.evaluate(tNew, yPredict, this.fy)) {
            if (!this.jacobian.numerical) this.f(tNew, yPredict, this.fy);
            if (!this.jacobian.numerical && allFinite(this.fy)) {
              return {
                kind: 'failed',
                code: 'nonFiniteDerivative',
                message: failAt(
                  'bdf',
                  t,
                  h,
                  `${this.jacobian.nonFiniteMessage()} (at the predictor for t = ${tNew})`,
                ),
              };
            }
            // The predicted point may lie where f is undefined: reduce the step.
            this.newtonNonFinite = true;
            converged = false;
            break;
          }
          this.jacValid = true;
          this.jacCurrent = true;
          this.cLu = Number.NaN;
        }
        if (!(Math.abs(c / this.cLu - 1) <= REFACTOR_DRIFT)) {
          stats.nlu++;
          if (!this.solver.factor(this.jacobian.jac, 1 / c, 0)) {
            this.cLu = Number.NaN;
            factorFailed = true;
            break;
          }
          this.cLu = c;
          // A new matrix has an unknown contraction rate: measure it again before trusting one iteration.
          this.rate = RATE_RESET;
        }
        converged = this.solveCorrector(tNew, c, k);
        if (converged || this.jacCurrent) break;
        this.jacValid = false;
      }
      if (factorFailed || !converged) {
        if (factorFailed && ++singular > MAX_SINGULAR) {
          return {
            kind: 'failed',
            code: 'singularMatrix',
            message: failAt(
              'bdf',
              t,
              h,
              `the iteration matrix I − h/α·J is singular (${singular} step halvings did not help)`,
            ),
          };
        }
        if (!factorFailed) {
          stats.nsteps++;
          stats.nreject++;
          if (++newtonFailures > MAX_NEWTON_FAILURES) {
            return {
              kind: 'failed',
              code: this.newtonNonFinite ? 'nonFiniteDerivative' : 'newtonDiverged',
              message: failAt(
                'bdf',
                t,
                h,
                this.newtonNonFinite
                  ? `f returned a non-finite value at every trial step (${newtonFailures} step reductions)`
                  : `the Newton iteration diverged after ${newtonFailures} step reductions with a fresh Jacobian`,
              ),
            };
          }
        }
        nonFiniteRejection = this.newtonNonFinite;
        this.changeGrid(0.5);
        this.hAbs = h * 0.5;
        // If the halved step fails too, the Jacobian (taken at the old predictor) is refreshed.
        this.jacCurrent = false;
        continue;
      }

      const safety = (0.9 * (2 * NEWTON_MAX_ITER + 1)) / (2 * NEWTON_MAX_ITER + this.newtonIter);
      fillScale(scale, options, yNew, yNew);
      const corr = this.corr;
      const work = this.work;
      const ec = ERROR_CONST[k];
      for (let i = 0; i < n; i++) work[i] = ec * corr[i];
      const errNorm = options.norm(work, scale);
      if (!(errNorm <= 1) && options.fixedStep === undefined) {
        stats.nsteps++;
        stats.nreject++;
        const factor = Number.isFinite(errNorm)
          ? Math.max(MIN_FACTOR, safety * errNorm ** (-1 / (k + 1)))
          : MIN_FACTOR;
        this.changeGrid(factor);
        this.hAbs = h * factor;
        nonFiniteRejection = !Number.isFinite(errNorm);
        // A failed error test may come from an inaccurate corrector rather than a large truncation error:
        // forget the remembered contraction rate, and after two failures in a row refresh the Jacobian.
        this.rate = RATE_RESET;
        if (++errorFailures >= 2) this.jacValid = false;
        continue;
      }

      // Accepted: shift the differences.
      stats.nsteps++;
      stats.naccept++;
      this.tPrev = t;
      this.t = tNew;
      this.y.set(yNew);
      this.nEqualSteps++;
      const o1 = (k + 1) * n;
      const o2 = (k + 2) * n;
      for (let i = 0; i < n; i++) {
        d[o2 + i] = corr[i] - d[o1 + i];
        d[o1 + i] = corr[i];
      }
      for (let j = k; j >= 0; j--) {
        const off = j * n;
        const next = off + n;
        for (let i = 0; i < n; i++) d[off + i] += d[next + i];
      }
      this.jacCurrent = false;
      this.chooseNext(k, errNorm, safety);
      return { kind: 'accepted' };
    }
  }

  /** Order and step for the next step, considered once the current order has run k+1 equal steps. */
  private chooseNext(k: number, errNorm: number, safety: number): void {
    const { n, d, scale, work, options } = this;
    if (this.nEqualSteps < k + 1) return;
    if (options.fixedStep !== undefined) {
      if (k < this.maxOrder) this.orderNow = k + 1;
      this.nEqualSteps = 0;
      return;
    }
    let normDown = Number.POSITIVE_INFINITY;
    if (k > 1) {
      const ec = ERROR_CONST[k - 1];
      for (let i = 0; i < n; i++) work[i] = ec * d[k * n + i];
      normDown = options.norm(work, scale);
    }
    let normUp = Number.POSITIVE_INFINITY;
    if (k < this.maxOrder) {
      const ec = ERROR_CONST[k + 1];
      for (let i = 0; i < n; i++) work[i] = ec * d[(k + 2) * n + i];
      normUp = options.norm(work, scale);
    }
    const fDown = normDown === 0 ? MAX_FACTOR : normDown ** (-1 / k);
    const fSame = errNorm === 0 ? MAX_FACTOR : errNorm ** (-1 / (k + 1));
    const fUp = normUp === 0 ? MAX_FACTOR : normUp ** (-1 / (k + 2));
    let best = fSame;
    let delta = 0;
    if (fDown > best) {
      best = fDown;
      delta = -1;
    }
    if (fUp > best) {
      best = fUp;
      delta = 1;
    }
    const factor = Math.min(MAX_FACTOR, safety * best);
    // Small increases are not worth re-interpolating the history (and perhaps refactoring).
    if (delta === 0 && factor >= 1 && factor < 1.2) return;
    this.orderNow = k + delta;
    this.changeGrid(factor);
    this.hAbs *= factor;
  }

  /**
   * Simplified Newton for the NDF corrector (I − cJ)·Δ = c·f(t, y) − ψ − corr, starting at the predictor.
   * Leaves y_{n+1} in `yNew` and y_{n+1} − y_pred in `corr`.
   */
  private solveCorrector(tNew: number, c: number, order: number): boolean {
    const { n, f, yPredict, psi, corr, dy, yNew, scale, fy, options } = this;
    yNew.set(yPredict);
    corr.fill(0);
    this.newtonNonFinite = false;
    const tol = Math.max(this.newtonTol, NEWTON_CONIT / (order + 2));
    const ec = ERROR_CONST[order];
    // With the matrix factored at c_LU instead of c, non-stiff components of the correction come out too
    // small by c_LU/c and stiff ones about right; 2·rc/(1 + rc) splits the difference (VODE's rule, written
    // for this scaling of the system).
    const rc = c / this.cLu;
    const relax = rc === 1 ? 1 : (2 * rc) / (1 + rc);
    let normOld = 0;
    let rate = Math.max(this.rate, RATE_FLOOR);
    for (let k = 0; k < NEWTON_MAX_ITER; k++) {
      this.newtonIter = k + 1;
      f(tNew, yNew, fy);
      if (!allFinite(fy)) {
        this.newtonNonFinite = true;
        return false;
      }
      // (1/c·I − J)·Δ = f − (ψ + corr)/c is the corrector equation divided by c.
      const invC = 1 / c;
      for (let i = 0; i < n; i++) dy[i] = fy[i] - (psi[i] + corr[i]) * invC;
      this.solver.solve(dy);
      if (relax !== 1) for (let i = 0; i < n; i++) dy[i] *= relax;
      const dyNorm = options.norm(dy, scale);
      if (!Number.isFinite(dyNorm)) return false;
      if (k > 0) {
        const ratio = dyNorm / normOld;
        if (ratio > 2) {
          this.rate = Math.max(this.rate, ratio);
          return false;
        }
        rate = Math.max(0.2 * rate, ratio, RATE_FLOOR);
      }
      for (let i = 0; i < n; i++) {
        yNew[i] += dy[i];
        corr[i] += dy[i];
      }
      // The remaining iteration error is about dyNorm·rate for a contraction; it enters the local error
      // estimate multiplied by the error constant, and must stay a small fraction of the error tolerance.
      if (dyNorm === 0 || ec * dyNorm * Math.min(1, 1.5 * rate) < tol) {
        this.rate = rate;
        return true;
      }
      normOld = dyNorm;
    }
    this.rate = rate;
    return false;
  }
}

/** Build the variable-order BDF/NDF method. */
export function createBdfMethod(bdfOptions: BdfOptions = {}): MethodFactory {
  const maxOrder = bdfOptions.maxOrder ?? MAX_ORDER;
  if (!Number.isInteger(maxOrder) || maxOrder < 1 || maxOrder > MAX_ORDER) {
    throw new RangeError(`createBdfMethod: maxOrder must be an integer in 1..${MAX_ORDER}, got ${maxOrder}`);
  }
  const linearSolver = bdfOptions.linearSolver ?? denseLinearSolver;
  return Object.freeze({
    name: 'bdf',
    fixedStep: false,
    stiff: true,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, options: StepperOptions): Stepper =>
      new BdfStepper(f, t0, y0, tEnd, options, maxOrder, linearSolver),
  });
}

/** Variable-order BDF/NDF (orders 1–5) with dense LU: the `'bdf'` method. */
export const bdfMethod: MethodFactory = createBdfMethod();
