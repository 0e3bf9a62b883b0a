/**
 * One explicit Runge–Kutta stepper for every {@link ButcherTableau}.
 *
 * Stages are never unrolled: the stepper walks the nonzero coefficients of each tableau row (extracted once
 * per solve), so DOP853's sparse rows cost only their nonzeros. All buffers (stages, trial state, error,
 * scale) are allocated when the stepper is created; a step allocates nothing.
 *
 * Step sizes: with `fixedStep` (or for tableaus without an embedded pair) the stepper takes steps of that
 * size, or steps straight to `tLimit` when no size is given; otherwise it asks the {@link StepSizeController}.
 * The error norm is that of the driver (RMS of err/scale by default), with Hairer's 5/3 combination for
 * tableaus that carry a second error estimate.
 *
 * FSAL: after an accepted step the last stage is f(t, y) at the new point and becomes the next first stage.
 * The swap is done lazily at the start of the next step, so the interpolant of the step just taken (which
 * needs the old first stage) stays valid until then. Methods without FSAL get f at the new point for free
 * when Hermite dense output has already evaluated it.
 */

import { PidController } from './controller.js';
import { minStepAt, selectInitialStep } from './initial-step.js';
import { fillHermiteCoefficients, PolynomialPiece } from './interpolants.js';
import type { ButcherTableau } from './tableau.js';
import type {
  Dynamics,
  Interpolant,
  MethodFactory,
  StepOutcome,
  Stepper,
  StepperOptions,
  StepSizeController,
} from './types.js';

const ACCEPTED: StepOutcome = Object.freeze({ kind: 'accepted' });

/** Consecutive steps with h·|λ| beyond the stability boundary before the stiffness test fires (Hairer). */
const STIFF_STEPS = 15;
/** Consecutive steps inside the boundary that clear the count. */
const NONSTIFF_STEPS = 6;

export interface RungeKuttaMethodOptions {
  /**
   * What to do when the stiffness test fires (methods with a test: dopri5, dopri8): `'continue'` (default)
   * records it in `Stepper.looksStiff` so failure messages can say so; `'fail'` stops with code `'stiff'`.
   */
  readonly onStiffness?: 'continue' | 'fail';
}

/** Nonzero entries of a coefficient row: stage indices and values. */
interface SparseRow {
  /** Start of each stage used, in the flat stage storage (stage index · n). */
  readonly offset: Int32Array;
  readonly value: Float64Array;
}

function sparse(row: readonly number[] | undefined, n: number): SparseRow {
  const offset: number[] = [];
  const value: number[] = [];
  (row ?? []).forEach((v, i) => {
    if (v !== 0) {
      offset.push(i * n);
      value.push(v);
    }
  });
  return { offset: Int32Array.from(offset), value: Float64Array.from(value) };
}

class RungeKuttaInterpolant implements Interpolant {
  t0 = 0;
  t1 = 0;
  constructor(private readonly stepper: RungeKuttaStepper) {}
  evaluate(t: number, out?: Float64Array): Float64Array {
    return this.stepper.denseEvaluate(t, out ?? new Float64Array(this.stepper.y.length));
  }
  freeze(): Interpolant {
    return this.stepper.denseFreeze();
  }
}

export class RungeKuttaStepper implements Stepper {
  readonly method: string;
  readonly order: number;
  /** The tableau being stepped (sensitivity methods replay its stages in their backward pass). */
  readonly tableau: ButcherTableau;
  t: number;
  tPrev: number;
  y: Float64Array;
  looksStiff = false;
  /** Size of the last accepted step (exactly the h its stages used; t − tPrev may differ by rounding). */
  lastStepSize = 0;
  /** Error norm of the last attempted adaptive step (≤ 1 when it was accepted); NaN before the first. */
  lastErrorNorm = Number.NaN;

  private readonly n: number;
  private readonly stages: number;
  private readonly fsal: boolean;
  private readonly adaptive: boolean;
  private readonly errorOrder: number;
  private readonly c: Float64Array;
  private readonly rows: SparseRow[];
  private readonly bRow: SparseRow;
  private readonly eRow: SparseRow;
  private readonly e2Row: SparseRow | undefined;
  /** Dense output matrix, row-major (stage × degree), or undefined for Hermite. */
  private readonly p: Float64Array | undefined;
  private readonly degree: number;
  private readonly extraRows: SparseRow[];
  private readonly extraC: Float64Array;
  private readonly stiffStage: number;
  private readonly stiffBoundary: number;
  private readonly controller: StepSizeController;

  private readonly kFlat: Float64Array;
  private readonly k: readonly Float64Array[];
  private yPrev: Float64Array;
  private yNew: Float64Array;
  private readonly ys: Float64Array;
  private readonly yStiff: Float64Array;
  private readonly err: Float64Array;
  private readonly err2: Float64Array;
  private readonly scale: Float64Array;
  private readonly fEnd: Float64Array;
  private readonly weights: Float64Array;
  private readonly dense: RungeKuttaInterpolant;

  private hNext = 0;
  private k0Ready = false;
  private fsalPending = false;
  private fEndValid = false;
  private extraValid = false;
  private stiffCount = 0;
  private nonStiffCount = 0;
  private initialFailure: StepOutcome | undefined;

  constructor(
    private readonly f: Dynamics,
    t0: number,
    y0: Float64Array,
    private readonly tEnd: number,
    private readonly options: StepperOptions,
    tableau: ButcherTableau,
    private readonly onStiffness: 'continue' | 'fail',
  ) {
    const n = y0.length;
    this.n = n;
    this.method = tableau.name;
    this.order = tableau.order;
    this.tableau = tableau;
    this.stages = tableau.stages;
    this.fsal = tableau.fsal;
    this.adaptive = tableau.adaptive && options.fixedStep === undefined;
    this.errorOrder = tableau.errorOrder ?? tableau.order - 1;
    this.c = Float64Array.from(tableau.c);
    this.rows = tableau.a.map((r) => sparse(r, n));
    this.bRow = sparse(tableau.b, n);
    this.eRow = sparse(tableau.bError, n);
    this.e2Row = tableau.bError2 === undefined ? undefined : sparse(tableau.bError2, n);
    const dense = tableau.dense;
    const extra = dense?.extraStages;
    this.extraRows = (extra?.a ?? []).map((r) => sparse(r, n));
    this.extraC = Float64Array.from(extra?.c ?? []);
    const total = this.stages + this.extraRows.length;
    this.degree = dense?.p[0].length ?? 3;
    this.p = dense === undefined ? undefined : Float64Array.from(dense.p.flat());
    this.stiffStage = tableau.stiffnessTest?.stage ?? -1;
    this.stiffBoundary = tableau.stiffnessTest?.boundary ?? Number.POSITIVE_INFINITY;
    this.controller = options.controller ?? new PidController();
    // One flat buffer for all stages (stage s at s·n), with a fixed view per stage for f to write into.
    this.kFlat = new Float64Array(total * n);
    this.k = Array.from({ length: total }, (_, s) => this.kFlat.subarray(s * n, (s + 1) * n));
    this.t = t0;
    this.tPrev = t0;
    this.y = Float64Array.from(y0);
    this.yPrev = new Float64Array(n);
    this.yNew = new Float64Array(n);
    this.ys = new Float64Array(n);
    this.yStiff = new Float64Array(n);
    this.err = new Float64Array(n);
    this.err2 = new Float64Array(n);
    this.scale = new Float64Array(n);
    this.fEnd = new Float64Array(n);
    this.weights = new Float64Array(total);
    this.dense = new RungeKuttaInterpolant(this);
    this.restart(t0, y0);
  }

  restart(t: number, y: Float64Array): void {
    this.t = t;
    this.tPrev = t;
    this.y.set(y);
    this.fsalPending = false;
    this.fEndValid = false;
    this.extraValid = false;
    this.controller.reset();
    this.initialFailure = undefined;
    const k0 = this.k[0];
    this.f(t, this.y, k0);
    this.k0Ready = true;
    if (!allFinite(k0)) {
      this.initialFailure = {
        kind: 'failed',
        code: 'nonFiniteDerivative',
        message: `${this.method}: f returned non-finite values at t = ${t} (the initial point of the step)`,
      };
      return;
    }
    const { options } = this;
    if (!this.adaptive) {
      this.hNext = options.fixedStep ?? Number.POSITIVE_INFINITY;
      return;
    }
    this.hNext =
      options.firstStep ??
      selectInitialStep(
        this.f,
        t,
        this.y,
        k0,
        this.tEnd - t,
        this.errorOrder,
        options,
        this.scale,
        this.ys,
        this.yNew,
      );
  }

  /**
   * The last accepted step's start state and stage derivatives (stage s at s·n of `stages`, in the stepper's
   * increasing-time frame), valid until the next call to `step`. Sensitivity methods read it right after a
   * step to rebuild the stage inputs Y_s = yPrev + h·Σ a_sj k_j without evaluating f again.
   */
  acceptedStep(): { readonly yPrev: Float64Array; readonly stages: Float64Array; readonly h: number } {
    return { yPrev: this.yPrev, stages: this.kFlat, h: this.lastStepSize };
  }

  interpolant(): Interpolant {
    this.dense.t0 = this.tPrev;
    this.dense.t1 = this.t;
    return this.dense;
  }

  step(tLimit: number): StepOutcome {
    if (this.initialFailure !== undefined) return this.initialFailure;
    this.prepareFirstStage();
    if (!allFinite(this.k[0])) {
      return {
        kind: 'failed',
        code: 'nonFiniteDerivative',
        message: `${this.method}: f returned non-finite values at t = ${this.t}`,
      };
    }
    return this.adaptive ? this.adaptiveStep(tLimit) : this.fixedStep(tLimit);
  }

  /** Make k[0] = f(t, y): from the FSAL stage, from Hermite's end evaluation, or by evaluating f. */
  private prepareFirstStage(): void {
    const { k } = this;
    if (this.fsalPending) {
      k[0].set(k[this.stages - 1]);
      this.fsalPending = false;
    } else if (this.fEndValid) {
      k[0].set(this.fEnd);
      this.fEndValid = false;
    } else if (!this.k0Ready) {
      this.f(this.t, this.y, k[0]);
    }
    this.k0Ready = true;
  }

  private fixedStep(tLimit: number): StepOutcome {
    const { stats } = this.options;
    let h = Math.min(this.hNext, tLimit - this.t);
    let tNew = this.t + h;
    if (this.t + 1.01 * h >= tLimit) {
      tNew = tLimit;
      h = tLimit - this.t;
    }
    stats.nsteps++;
    this.computeStages(h, tNew);
    if (!allFinite(this.yNew)) {
      stats.nreject++;
      return {
        kind: 'failed',
        code: 'nonFiniteDerivative',
        message: `${this.method}: the step from t = ${this.t} to ${tNew} (h = ${h}) produced non-finite values; reduce the step size`,
      };
    }
    stats.naccept++;
    this.lastStepSize = h;
    this.commit(tNew);
    return ACCEPTED;
  }

  private adaptiveStep(tLimit: number): StepOutcome {
    const { stats, maxStep } = this.options;
    const q = this.errorOrder;
    let h = Math.min(this.hNext, maxStep);
    let rejected = false;
    let nonFinite = false;
    for (;;) {
      if (h < minStepAt(this.t)) {
        const cause = nonFinite
          ? 'f returned non-finite values at every trial step down to the resolution of t'
          : 'the step size fell below the resolution of t; the tolerances cannot be met here (the solution may blow up, f may be discontinuous, or the problem may be stiff)';
        return {
          kind: 'failed',
          code: nonFinite ? 'nonFiniteDerivative' : 'stepSizeUnderflow',
          message: `${this.method}: at t = ${this.t}, step h = ${h.toExponential(3)}: ${cause}`,
        };
      }
      let hTry = h;
      let tNew = this.t + h;
      const clipped = this.t + 1.01 * h >= tLimit;
      if (clipped) {
        tNew = tLimit;
        hTry = tLimit - this.t;
      }
      stats.nsteps++;
      this.computeStages(hTry, tNew);
      const errNorm = this.errorNorm(hTry);
      this.lastErrorNorm = errNorm;
      if (errNorm <= 1) {
        // The stiffness test looks at the trial step before it is committed, so that with
        // onStiffness: 'fail' the failure leaves the state at the start of the step (no progress is lost
        // to the caller, and a switcher can restart a stiff method from here).
        if (this.stiffStage >= 0 && this.stiffnessTest(hTry) && this.onStiffness === 'fail') {
          stats.nreject++;
          return {
            kind: 'failed',
            code: 'stiff',
            message: `${this.method}: the problem looks stiff at t = ${this.t} (h·|λ| has been at the stability boundary for ${STIFF_STEPS} steps)`,
          };
        }
        const factor = this.controller.accept(errNorm, q, rejected);
        this.hNext = clipped && factor >= 1 ? Math.max(h, hTry * factor) : hTry * factor;
        stats.naccept++;
        this.lastStepSize = hTry;
        this.commit(tNew);
        return ACCEPTED;
      }
      stats.nreject++;
      nonFinite = !Number.isFinite(errNorm);
      h = hTry * this.controller.reject(errNorm, q);
      rejected = true;
    }
  }

  /** Accept the trial state: rotate buffers, advance time. */
  private commit(tNew: number): void {
    const old = this.yPrev;
    this.yPrev = this.y;
    this.y = this.yNew;
    this.yNew = old;
    this.tPrev = this.t;
    this.t = tNew;
    this.k0Ready = false;
    this.fsalPending = this.fsal;
    this.fEndValid = false;
    this.extraValid = false;
  }

  /**
   * dest = base + h·Σ_j value_j k_j over the nonzeros of a row. Component-outer, so each dest entry is
   * written once and the sum stays in a register (the form h·(Σ a·k) is also SciPy's).
   */
  private combine(dest: Float64Array, base: Float64Array, h: number, row: SparseRow): void {
    const { offset, value } = row;
    const { n, kFlat } = this;
    const m = offset.length;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < m; j++) acc += value[j] * kFlat[offset[j] + i];
      dest[i] = base[i] + h * acc;
    }
  }

  /** Stages 1…s−1 and the trial solution yNew for a step of size h ending at tNew. */
  private computeStages(h: number, tNew: number): void {
    const { stages, c, rows, f, k, ys, y, t } = this;
    const last = stages - 1;
    for (let s = 1; s < stages; s++) {
      const fsalStage = this.fsal && s === last;
      const target = fsalStage ? this.yNew : ys;
      this.combine(target, y, h, rows[s]);
      if (s === this.stiffStage) this.yStiff.set(ys);
      f(c[s] === 1 ? tNew : t + c[s] * h, target, k[s]);
    }
    if (!this.fsal) this.combine(this.yNew, y, h, this.bRow);
  }

  /** Weighted norm of the local error estimate (NaN when the trial state is not finite). */
  private errorNorm(h: number): number {
    const { n, err, scale, y, yNew, options } = this;
    const { rtol, atol } = options;
    this.combineError(err, h, this.eRow);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(y[i]);
      const b = Math.abs(yNew[i]);
      scale[i] = atol[i] + rtol[i] * Math.max(a, b);
      total += b;
    }
    if (!Number.isFinite(total)) return Number.NaN;
    const e = options.norm(err, scale);
    if (this.e2Row === undefined) return e;
    this.combineError(this.err2, h, this.e2Row);
    const e2 = options.norm(this.err2, scale);
    const denom = e * e + 0.01 * e2 * e2;
    return denom === 0 ? 0 : (e * e) / Math.sqrt(denom);
  }

  private combineError(dest: Float64Array, h: number, row: SparseRow): void {
    const { offset, value } = row;
    const { n, kFlat } = this;
    const m = offset.length;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < m; j++) acc += value[j] * kFlat[offset[j] + i];
      dest[i] = h * acc;
    }
  }

  /**
   * Hairer's test on a step about to be accepted: h·‖k_last − k_stage‖/‖y1 − y_stage‖ estimates |hλ| for
   * the dominant eigenvalue (both stages sit at t + h). Returns true when it has just fired.
   */
  private stiffnessTest(h: number): boolean {
    const { n, k, yNew, yStiff } = this;
    const kLast = k[this.stages - 1];
    const kStage = k[this.stiffStage];
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const df = kLast[i] - kStage[i];
      const dy = yNew[i] - yStiff[i];
      num += df * df;
      den += dy * dy;
    }
    if (den <= 0) return false;
    if (h * Math.sqrt(num / den) > this.stiffBoundary) {
      this.nonStiffCount = 0;
      if (++this.stiffCount === STIFF_STEPS) {
        this.looksStiff = true;
        return true;
      }
    } else if (++this.nonStiffCount >= NONSTIFF_STEPS) {
      this.stiffCount = 0;
    }
    return false;
  }

  /** Evaluate the extra dense-output stages (DOP853) once per step, on demand. */
  private ensureExtraStages(h: number): void {
    if (this.extraValid || this.extraRows.length === 0) return;
    const { stages, extraRows, extraC, ys, yPrev, tPrev, f, k } = this;
    for (let j = 0; j < extraRows.length; j++) {
      this.combine(ys, yPrev, h, extraRows[j]);
      f(tPrev + extraC[j] * h, ys, k[stages + j]);
    }
    this.extraValid = true;
  }

  /** f at the new point, needed by Hermite output: the FSAL stage, or one evaluation kept for next step. */
  private endDerivative(): Float64Array {
    if (this.fsal) return this.k[this.stages - 1];
    if (!this.fEndValid) {
      this.f(this.t, this.y, this.fEnd);
      this.fEndValid = true;
    }
    return this.fEnd;
  }

  denseEvaluate(t: number, out: Float64Array): Float64Array {
    const { n, yPrev, k } = this;
    const h = this.t - this.tPrev;
    if (h === 0 || t === this.t) {
      out.set(this.y);
      return out;
    }
    const theta = (t - this.tPrev) / h;
    if (this.p === undefined) {
      const f1 = this.endDerivative();
      const f0 = k[0];
      const y1 = this.y;
      const t2 = theta * theta;
      const h00 = (2 * theta - 3) * t2 + 1;
      const h10 = ((theta - 2) * theta + 1) * theta * h;
      const h01 = (3 - 2 * theta) * t2;
      const h11 = (theta - 1) * t2 * h;
      for (let i = 0; i < n; i++) out[i] = h00 * yPrev[i] + h10 * f0[i] + h01 * y1[i] + h11 * f1[i];
      return out;
    }
    this.ensureExtraStages(h);
    const { p, degree, weights } = this;
    out.set(yPrev);
    for (let s = 0; s < weights.length; s++) {
      let w = 0;
      for (let j = degree - 1; j >= 0; j--) w = (w + p[s * degree + j]) * theta;
      if (w === 0) continue;
      const ks = k[s];
      const cf = h * w;
      for (let i = 0; i < n; i++) out[i] += cf * ks[i];
    }
    return out;
  }

  denseFreeze(): Interpolant {
    const { n, yPrev, k, tPrev, t } = this;
    const h = t - tPrev;
    if (this.p === undefined) {
      const coeffs = new Float64Array(4 * n);
      fillHermiteCoefficients(coeffs, h, yPrev, k[0], this.y, this.endDerivative());
      return new PolynomialPiece(tPrev, t, n, coeffs);
    }
    this.ensureExtraStages(h);
    const { p, degree } = this;
    const coeffs = new Float64Array((degree + 1) * n);
    coeffs.set(yPrev);
    for (let s = 0; s < this.weights.length; s++) {
      const ks = k[s];
      for (let j = 0; j < degree; j++) {
        const cf = h * p[s * degree + j];
        if (cf === 0) continue;
        const off = (j + 1) * n;
        for (let i = 0; i < n; i++) coeffs[off + i] += cf * ks[i];
      }
    }
    return new PolynomialPiece(tPrev, t, n, coeffs);
  }
}

function allFinite(v: Float64Array): boolean {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * 0;
  // s stays 0 unless some entry is ±Infinity or NaN (x·0 is NaN for those).
  return s === 0;
}

/** A method factory for a tableau: the value behind names such as `'dopri5'`. */
export function rungeKuttaMethod(
  tableau: ButcherTableau,
  methodOptions: RungeKuttaMethodOptions = {},
): MethodFactory {
  const onStiffness = methodOptions.onStiffness ?? 'continue';
  return Object.freeze({
    name: tableau.name,
    fixedStep: !tableau.adaptive,
    stiff: false,
    /** The tableau (read by sensitivity methods to decide how outputs are differentiated). */
    tableau,
    create(f: Dynamics, t0: number, y0: Float64Array, tEnd: number, options: StepperOptions): Stepper {
      return new RungeKuttaStepper(f, t0, y0, tEnd, options, tableau, onStiffness);
    },
  });
}
