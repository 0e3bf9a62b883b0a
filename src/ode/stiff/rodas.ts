/**
 * RODAS4: L-stable, stiffly accurate Rosenbrock method of order 4 with an embedded order-3 estimate and a
 * continuous extension, for stiff problems at moderate tolerances (rtol ≳ 1e-8).
 *
 * Reference: E. Hairer & G. Wanner, Solving Ordinary Differential Equations II, 2nd ed., §VI.4 (Springer
 * 1996). Coefficients in rodas-tableau.ts.
 *
 * A Rosenbrock method is linearly implicit: each step needs the exact Jacobian at (t_n, y_n), ∂f/∂t (one
 * forward difference in t, so non-autonomous problems keep order 4) and one LU of 1/(γh)·I − J, then six
 * stage solves with that one factorisation. No Newton iteration, so nothing can diverge; a rejected step
 * reuses J and ∂f/∂t and only refactors.
 */
import { denseLinearSolver, type LinearSolverFactory, type ShiftedLinearSolver } from '../../linalg/index.js';
import { selectInitialStep } from '../initial-step.js';
import { PolynomialPiece } from '../interpolants.js';
import type { Dynamics, Interpolant, MethodFactory, StepOutcome, Stepper, StepperOptions } from '../types.js';
import {
  allFinite,
  failAt,
  fillScale,
  minStepAt,
  StepperInterpolant,
  stepEnd,
  underflowOutcome,
} from './common.js';
import { JacobianEvaluator, timeDerivative } from './jacobian.js';
import {
  RODAS4_A,
  RODAS4_C,
  RODAS4_CC,
  RODAS4_D,
  RODAS4_DENSE_1,
  RODAS4_DENSE_2,
  RODAS4_GAMMA,
} from './rodas-tableau.js';

const SAFETY = 0.9;
const MIN_FACTOR = 0.2;
const MAX_FACTOR = 6;
const MAX_FAILURES = 30;

export interface RodasOptions {
  readonly linearSolver?: LinearSolverFactory;
}

class RodasStepper implements Stepper {
  readonly method = 'rodas';
  readonly order = 4;
  t: number;
  tPrev: number;
  readonly y: Float64Array;

  private readonly n: number;
  private readonly yPrev: Float64Array;
  private readonly fy: Float64Array;
  private readonly ft: Float64Array;
  /** Stages k_1..k_6, stacked. */
  private readonly k: Float64Array;
  private readonly yStage: Float64Array;
  private readonly g: Float64Array;
  private readonly yNew: Float64Array;
  private readonly scale: Float64Array;
  private readonly q1: Float64Array;
  private readonly q2: Float64Array;
  private readonly solver: ShiftedLinearSolver;
  private readonly jacobian: JacobianEvaluator;
  private readonly dense: StepperInterpolant;
  /** Views of the six stages (made once: no allocation while stepping). */
  private readonly stages: readonly Float64Array[];

  private hAbs = 0;
  private hLast = 0;
  private hOld = 0;
  private errOld = 0;
  /** J, ∂f/∂t and f are evaluated at the current (t, y). */
  private derivativesValid = false;

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
    this.yPrev = Float64Array.from(y0);
    this.fy = new Float64Array(n);
    this.ft = new Float64Array(n);
    this.k = new Float64Array(6 * n);
    this.yStage = new Float64Array(n);
    this.g = new Float64Array(n);
    this.yNew = new Float64Array(n);
    this.scale = new Float64Array(n);
    this.q1 = new Float64Array(n);
    this.q2 = new Float64Array(n);
    this.solver = linearSolver(n, false);
    this.jacobian = new JacobianEvaluator(f, n, options.jacobian, options.stats, options.atol);
    this.dense = new StepperInterpolant(this);
    this.stages = Array.from({ length: 6 }, (_, s) => this.k.subarray(s * n, (s + 1) * n));
    this.restart(t0, y0);
  }

  restart(t: number, y: Float64Array): void {
    const { options } = this;
    this.t = t;
    this.tPrev = t;
    this.y.set(y);
    this.yPrev.set(y);
    this.hLast = 0;
    this.hOld = 0;
    this.errOld = 0;
    this.derivativesValid = false;
    if (this.n === 0) return;
    this.f(t, this.y, this.fy);
    this.derivativesValid = false;
    let h =
      options.fixedStep ??
      options.firstStep ??
      selectInitialStep(
        this.f,
        t,
        this.y,
        this.fy,
        this.tEnd - t,
        3,
        options,
        this.scale,
        this.yStage,
        this.g,
      );
    h = Math.min(h, options.maxStep);
    this.hAbs = h;
  }

  interpolant(): Interpolant {
    this.dense.t0 = this.tPrev;
    this.dense.t1 = this.t;
    return this.dense;
  }

  denseAt(t: number, out: Float64Array): void {
    if (this.hLast === 0) {
      out.set(this.y);
      return;
    }
    const s = (t - this.tPrev) / this.hLast;
    const s1 = 1 - s;
    const { yPrev, y, q1, q2 } = this;
    for (let i = 0; i < this.n; i++) out[i] = s1 * yPrev[i] + s * (y[i] + s1 * (q1[i] + s * q2[i]));
  }

  /**
   * The continuous extension of the last step as a standalone piece: in θ it is
   * y_prev + θ(y − y_prev + q₁) + θ²(q₂ − q₁) − θ³q₂.
   */
  freezeDense(): Interpolant {
    const { n, yPrev, y, q1, q2 } = this;
    const coeffs = new Float64Array(4 * n);
    if (this.hLast === 0) {
      coeffs.set(y);
      return new PolynomialPiece(this.tPrev, this.t, n, coeffs);
    }
    for (let i = 0; i < n; i++) {
      coeffs[i] = yPrev[i];
      coeffs[n + i] = y[i] - yPrev[i] + q1[i];
      coeffs[2 * n + i] = q2[i] - q1[i];
      coeffs[3 * n + i] = -q2[i];
    }
    return new PolynomialPiece(this.tPrev, this.t, n, coeffs);
  }

  step(tLimit: number): StepOutcome {
    const { n, options, f, k, yStage, g, yNew, scale, fy, ft, y } = this;
    const stats = options.stats;
    if (n === 0) {
      this.tPrev = this.t;
      this.t = tLimit;
      stats.nsteps++;
      stats.naccept++;
      return { kind: 'accepted' };
    }
    const t = this.t;
    if (!this.derivativesValid) {
      // fy already holds f(t, y) (from restart or the end of the last step).
      if (!this.jacobian.evaluate(t, y, fy)) {
        return {
          kind: 'failed',
          code: 'nonFiniteDerivative',
          message: failAt('rodas', t, this.hAbs, this.jacobian.nonFiniteMessage()),
        };
      }
      timeDerivative(f, t, y, fy, ft);
      this.derivativesValid = true;
    }
    const jac = this.jacobian.jac;
    let rejected = false;
    let nonFiniteRejection = false;
    let failures = 0;
    for (;;) {
      if (this.hAbs < minStepAt(t)) {
        return underflowOutcome('rodas', t, this.hAbs, nonFiniteRejection);
      }
      const tNew = stepEnd(t, this.hAbs, tLimit);
      const h = tNew - t;
      stats.nlu++;
      if (!this.solver.factor(jac, 1 / (RODAS4_GAMMA * h), 0)) {
        if (++failures > MAX_FAILURES) {
          return {
            kind: 'failed',
            code: 'singularMatrix',
            message: failAt(
              'rodas',
              t,
              h,
              `the matrix 1/(γh)·I − J is singular (${failures} step reductions did not help)`,
            ),
          };
        }
        this.hAbs = h * 0.5;
        continue;
      }
      const invH = 1 / h;
      for (let s = 0; s < 6; s++) {
        const ks = this.stages[s];
        if (s === 0) {
          g.set(fy);
        } else if (s < 5) {
          const a = RODAS4_A[s];
          for (let i = 0; i < n; i++) {
            let v = y[i];
            for (let j = 0; j < s; j++) v += a[j] * k[j * n + i];
            yStage[i] = v;
          }
          f(t + RODAS4_C[s] * h, yStage, g);
        } else {
          // Stage 6 argument = stage 5 argument + k_5.
          const k5 = 4 * n;
          for (let i = 0; i < n; i++) yStage[i] += k[k5 + i];
          f(tNew, yStage, g);
        }
        const d = RODAS4_D[s] * h;
        const cc = RODAS4_CC[s];
        for (let i = 0; i < n; i++) {
          let v = g[i] + d * ft[i];
          for (let j = 0; j < s; j++) v += cc[j] * invH * k[j * n + i];
          ks[i] = v;
        }
        this.solver.solve(ks);
      }
      const k6 = this.stages[5];
      for (let i = 0; i < n; i++) yNew[i] = yStage[i] + k6[i];
      fillScale(scale, options, y, yNew);
      const err = options.norm(k6, scale);
      stats.nsteps++;
      const fixed = options.fixedStep !== undefined;
      if (!(err <= 1) && !fixed) {
        stats.nreject++;
        const factor = Number.isFinite(err) ? Math.max(MIN_FACTOR, SAFETY * err ** -0.25) : MIN_FACTOR;
        this.hAbs = h * Math.min(1, factor);
        rejected = true;
        nonFiniteRejection = !Number.isFinite(err);
        continue;
      }
      stats.naccept++;
      // Gustafsson's predictive controller (Hairer & Wanner, eq. IV.8.25).
      let factor = err === 0 ? MAX_FACTOR : SAFETY * err ** -0.25;
      if (this.hOld > 0) {
        const predicted = (SAFETY * (h / this.hOld) * (this.errOld / (err * err)) ** 0.25) / 1;
        factor = Math.min(factor, predicted);
      }
      factor = Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, factor));
      if (rejected) factor = Math.min(factor, 1);
      // Continuous extension before the stages are overwritten.
      const { q1, q2 } = this;
      for (let i = 0; i < n; i++) {
        let a = 0;
        let b = 0;
        for (let j = 0; j < 5; j++) {
          const kj = k[j * n + i];
          a += RODAS4_DENSE_1[j] * kj;
          b += RODAS4_DENSE_2[j] * kj;
        }
        q1[i] = a;
        q2[i] = b;
      }
      this.yPrev.set(y);
      y.set(yNew);
      this.tPrev = t;
      this.t = tNew;
      this.hLast = h;
      this.hOld = h;
      this.errOld = Math.max(0.01, err);
      this.hAbs = fixed ? (options.fixedStep as number) : Math.min(h * factor, options.maxStep);
      f(tNew, y, fy);
      this.derivativesValid = false;
      if (!allFinite(fy)) {
        return {
          kind: 'failed',
          code: 'nonFiniteDerivative',
          message: failAt('rodas', tNew, h, 'f(t, y) is not finite at the end of the step'),
        };
      }
      return { kind: 'accepted' };
    }
  }
}

/** Build the RODAS4 method with a chosen linear-solver backend. */
export function createRodasMethod(rodasOptions: RodasOptions = {}): MethodFactory {
  const linearSolver = rodasOptions.linearSolver ?? denseLinearSolver;
  return Object.freeze({
    name: 'rodas',
    fixedStep: false,
    stiff: true,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, options: StepperOptions): Stepper =>
      new RodasStepper(f, t0, y0, tEnd, options, linearSolver),
  });
}

/** RODAS4 with dense LU: the `'rodas'` method. */
export const rodasMethod: MethodFactory = createRodasMethod();
