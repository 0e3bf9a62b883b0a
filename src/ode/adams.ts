/**
 * Adams methods on divided differences: variable-step, variable-order Adams–Bashforth–Moulton PECE
 * (`'adams'`, orders 1–12, in the spirit of Shampine & Gordon's DE/STEP and LSODE's non-stiff mode) and the
 * fixed-step explicit (Adams–Bashforth) and implicit (Adams–Moulton, PECE) methods of a chosen order.
 *
 * References: L. F. Shampine & M. K. Gordon, Computer Solution of Ordinary Differential Equations (1975);
 * E. Hairer, S. P. Nørsett & G. Wanner, Solving ODEs I (2nd ed., 1993), §III.5 and §III.7.
 *
 * Formulation. The history is kept as Newton divided differences D_i = f[t_n, …, t_{n−i}] of past derivative
 * values on the actual (variable) grid, so step-size changes need no re-interpolation and every formula is
 * exact for the grid it runs on. With u = t − t_n and the Newton basis P_i(u) = Π_{m<i}(u + t_n − t_{n−m}):
 *  - predictor of order p (Adams–Bashforth): y^p = y_n + Σ_{i<p} D_i ∫_0^h P_i;
 *  - corrector: with E_i the divided differences of the predicted point (E_0 = f(t_{n+1}, y^p)),
 *    y^c = y^p + E_p ∫_0^h P_p, which is the Adams–Moulton formula of order p + 1;
 *  - local error of the order-k corrector (variable mode): AM_{k+1} − AM_k = E_k ∫_0^h Π_{m<k}(t − t_{n+1−m}),
 *    estimated for k − 1, k and k + 1 to choose the order (the largest next step wins; raising the order
 *    waits k + 1 steps at the current order except in the start phase, where it may rise every step).
 * The accepted value is the corrected one (local extrapolation), of order k + 1; the step size is
 * controlled by the order-k estimate. Dense output integrates the same Newton polynomial to θh, which is
 * continuous across steps and of the method's order.
 *
 * The fixed-step methods start with classical RK4 steps until enough history exists (p − 1 steps).
 */
import { minStepAt, selectInitialStep } from './initial-step.js';
import { PolynomialPiece } from './interpolants.js';
import { RungeKuttaStepper } from './runge-kutta.js';
import { RK4_TABLEAU } from './tableaus/rk4.js';
import type { Dynamics, Interpolant, MethodFactory, StepOutcome, Stepper, StepperOptions } from './types.js';
import { emptyStats } from './types.js';

const ACCEPTED: StepOutcome = Object.freeze({ kind: 'accepted' });
const MAX_ORDER = 12;
const SAFETY = 0.9;
/** Step-ratio limits for accepted steps: larger jumps make the variable-coefficient formulas less stable. */
const MAX_GROWTH = 2;
const MIN_SHRINK = 0.5;
const MIN_REJECT = 0.1;

type AdamsKind = 'variable' | 'explicit' | 'implicit';

/** ints[i] = ∫_0^θ Π_{m<i}(x + r_m) dx for i = 0…p (poly is scratch of length ≥ p + 1). */
function fillIntegrals(
  r: Float64Array,
  rOffset: number,
  p: number,
  theta: number,
  poly: Float64Array,
  ints: Float64Array,
) {
  poly[0] = 1;
  for (let i = 0; i <= p; i++) {
    // ∫_0^θ Σ_j poly_j x^j dx
    let s = 0;
    let pw = theta;
    for (let j = 0; j <= i; j++) {
      s += (poly[j] * pw) / (j + 1);
      pw *= theta;
    }
    ints[i] = s;
    if (i === p) break;
    // poly ← poly · (x + r_i)
    const ri = r[rOffset + i];
    poly[i + 1] = 0;
    for (let j = i + 1; j >= 1; j--) poly[j] = poly[j - 1] + ri * poly[j];
    poly[0] *= ri;
  }
}

class AdamsInterpolant implements Interpolant {
  t0 = 0;
  t1 = 0;
  constructor(private readonly stepper: AdamsStepper) {}
  evaluate(t: number, out?: Float64Array): Float64Array {
    return this.stepper.denseEvaluate(t, out ?? new Float64Array(this.stepper.y.length));
  }
  freeze(): Interpolant {
    return this.stepper.denseFreeze();
  }
}

class AdamsStepper implements Stepper {
  readonly method: string;
  t: number;
  tPrev: number;
  y: Float64Array;

  private readonly n: number;
  private readonly dim = MAX_ORDER + 2;
  /** Past times: times[j] = t_{n−j}. */
  private readonly times: Float64Array;
  private dCur: Float64Array[];
  private dPrev: Float64Array[];
  private readonly e: Float64Array[];
  private yPrev: Float64Array;
  private yNew: Float64Array;
  private readonly fp: Float64Array;
  private readonly scale: Float64Array;
  private readonly work: Float64Array;
  /** Correction term E_p of the last step (for dense output). */
  private readonly corr: Float64Array;
  private readonly ratios: Float64Array;
  private readonly amRatios: Float64Array;
  private readonly poly: Float64Array;
  private readonly ints: Float64Array;
  private readonly dense: AdamsInterpolant;
  private readonly startup: RungeKuttaStepper | undefined;

  private nHist = 0;
  private k: number;
  private stepsAtOrder = 0;
  private startPhase = true;
  private hNext = 0;
  /** Predictor order, step size and whether a correction was applied, for the last step's dense output. */
  private pStep = 0;
  private hStep = 0;
  private corrected = false;
  private initialFailure: StepOutcome | undefined;

  constructor(
    private readonly f: Dynamics,
    t0: number,
    y0: Float64Array,
    private readonly tEnd: number,
    private readonly options: StepperOptions,
    private readonly kind: AdamsKind,
    private readonly fixedOrder: number,
    private readonly maxOrder: number,
  ) {
    const n = y0.length;
    this.n = n;
    this.method = kind === 'variable' ? 'adams' : `${kind}-adams`;
    const alloc = () => Array.from({ length: this.dim + 1 }, () => new Float64Array(n));
    this.times = new Float64Array(this.dim + 1);
    this.dCur = alloc();
    this.dPrev = alloc();
    this.e = alloc();
    this.t = t0;
    this.tPrev = t0;
    this.y = Float64Array.from(y0);
    this.yPrev = new Float64Array(n);
    this.yNew = new Float64Array(n);
    this.fp = new Float64Array(n);
    this.scale = new Float64Array(n);
    this.work = new Float64Array(n);
    this.corr = new Float64Array(n);
    this.ratios = new Float64Array(this.dim + 1);
    this.amRatios = new Float64Array(this.dim + 1);
    this.poly = new Float64Array(this.dim + 2);
    this.ints = new Float64Array(this.dim + 2);
    this.k = kind === 'variable' ? 1 : fixedOrder;
    this.dense = new AdamsInterpolant(this);
    this.startup =
      kind === 'variable'
        ? undefined
        : // Own counters: the startup steps are counted once, by this stepper.
          new RungeKuttaStepper(
            f,
            t0,
            y0,
            tEnd,
            { ...options, stats: emptyStats() },
            RK4_TABLEAU,
            'continue',
          );
    this.restart(t0, y0);
  }

  get order(): number {
    return this.kind === 'variable' ? this.k + 1 : this.fixedOrder;
  }

  /** Predictor order p: corrector (if any) then has order p + 1. */
  private get predictorOrder(): number {
    return this.kind === 'implicit' ? this.fixedOrder - 1 : this.k;
  }

  restart(t: number, y: Float64Array): void {
    this.t = t;
    this.tPrev = t;
    this.y.set(y);
    this.initialFailure = undefined;
    this.f(t, this.y, this.dCur[0]);
    this.times[0] = t;
    this.nHist = 1;
    this.k = this.kind === 'variable' ? 1 : this.fixedOrder;
    this.stepsAtOrder = 0;
    this.startPhase = true;
    this.pStep = 0;
    this.hStep = 0;
    if (!allFinite(this.dCur[0])) {
      this.initialFailure = {
        kind: 'failed',
        code: 'nonFiniteDerivative',
        message: `${this.method}: f returned non-finite values at t = ${t}`,
      };
      return;
    }
    const { options } = this;
    if (this.kind !== 'variable') {
      this.hNext = options.fixedStep ?? Number.POSITIVE_INFINITY;
      return;
    }
    this.hNext =
      options.firstStep ??
      selectInitialStep(
        this.f,
        t,
        this.y,
        this.dCur[0],
        this.tEnd - t,
        1,
        options,
        this.scale,
        this.work,
        this.yNew,
      );
  }

  interpolant(): Interpolant {
    this.dense.t0 = this.tPrev;
    this.dense.t1 = this.t;
    return this.dense;
  }

  step(tLimit: number): StepOutcome {
    if (this.initialFailure !== undefined) return this.initialFailure;
    if (this.kind === 'variable') return this.variableStep(tLimit);
    let h = Math.min(this.hNext, tLimit - this.t);
    if (this.t + 1.01 * h >= tLimit) h = tLimit - this.t;
    const tNew = h === tLimit - this.t ? tLimit : this.t + h;
    const stats = this.options.stats;
    stats.nsteps++;
    if (this.nHist < this.predictorOrder) return this.startupStep(h, tNew);
    this.attempt(h, tNew, this.predictorOrder, this.kind === 'implicit');
    if (!allFinite(this.yNew)) {
      stats.nreject++;
      return {
        kind: 'failed',
        code: 'nonFiniteDerivative',
        message: `${this.method}: the step from t = ${this.t} to ${tNew} produced non-finite values; reduce the step size`,
      };
    }
    stats.naccept++;
    this.commit(tNew, this.kind === 'implicit');
    return ACCEPTED;
  }

  /** One classical RK4 step to build history for the fixed-step methods. */
  private startupStep(h: number, tNew: number): StepOutcome {
    const rk = this.startup!;
    rk.restart(this.t, this.y);
    const outcome = rk.step(tNew);
    if (outcome.kind === 'failed') return outcome;
    // Dense output of a startup step is the RK step's own (Hermite) interpolant.
    this.startupPiece = rk.interpolant().freeze!();
    this.yNew.set(rk.y);
    this.options.stats.naccept++;
    this.pStep = -1;
    this.hStep = h;
    this.f(tNew, this.yNew, this.fp);
    this.commit(tNew, false);
    return ACCEPTED;
  }

  private startupPiece: Interpolant | undefined;

  /** Fill ratios r_m = (t_n − t_{n−m})/h and amRatios (nodes of the Moulton basis: −1, r_0, r_1, …). */
  private fillRatios(h: number): void {
    const { times, ratios, amRatios, nHist } = this;
    const tn = times[0];
    amRatios[0] = -1;
    for (let m = 0; m < nHist; m++) {
      ratios[m] = (tn - times[m]) / h;
      amRatios[m + 1] = ratios[m];
    }
  }

  /**
   * Predict with order p, evaluate, and (when `correct`) apply the order-(p+1) correction. Leaves y^c in
   * yNew, f(t_{n+1}, y^p) in fp and the predicted differences E_0…E_{nHist} in e.
   */
  private attempt(h: number, tNew: number, p: number, correct: boolean): void {
    const { n, dCur, e, ints, y, yNew, fp, times } = this;
    this.fillRatios(h);
    fillIntegrals(this.ratios, 0, p, 1, this.poly, ints);
    yNew.set(y);
    let hp = h;
    for (let i = 0; i < p; i++) {
      const w = hp * ints[i];
      const di = dCur[i];
      for (let j = 0; j < n; j++) yNew[j] += w * di[j];
      hp *= h;
    }
    this.f(tNew, yNew, fp);
    e[0].set(fp);
    // E_i for i ≤ p + 1: the correction needs E_p, order selection E_{k−2}…E_{k+1}.
    const eMax = Math.min(this.nHist, p + 1);
    for (let i = 1; i <= eMax; i++) {
      const ei = e[i];
      const ePrev = e[i - 1];
      const dPrev = dCur[i - 1];
      const denom = tNew - times[i - 1];
      for (let j = 0; j < n; j++) ei[j] = (ePrev[j] - dPrev[j]) / denom;
    }
    this.pStep = p;
    this.hStep = h;
    this.corrected = correct;
    if (correct) {
      const w = hp * ints[p];
      const ep = e[p];
      for (let j = 0; j < n; j++) {
        this.corr[j] = ep[j];
        yNew[j] += w * ep[j];
      }
    }
  }

  /** Norm of E_j·∫_0^h Π_{m<j}(t − t_{n+1−m}) dt: the error estimate of the order-j corrector. */
  private errorAt(j: number, h: number): number {
    const { n, work, ints, e } = this;
    fillIntegrals(this.amRatios, 0, j, 1, this.poly, ints);
    const w = h ** (j + 1) * ints[j];
    const ej = e[j];
    for (let i = 0; i < n; i++) work[i] = w * ej[i];
    return this.options.norm(work, this.scale);
  }

  private variableStep(tLimit: number): StepOutcome {
    const { stats, maxStep, rtol, atol } = this.options;
    const { n, y, yNew } = this;
    let h = Math.min(this.hNext, maxStep);
    let nonFinite = false;
    let rejected = false;
    for (;;) {
      if (h < minStepAt(this.t)) {
        return {
          kind: 'failed',
          code: nonFinite ? 'nonFiniteDerivative' : 'stepSizeUnderflow',
          message: `adams: at t = ${this.t}, step h = ${h.toExponential(3)}: ${nonFinite ? 'f returned non-finite values at every trial step down to the resolution of t' : 'the step size fell below the resolution of t; the tolerances cannot be met here'}`,
        };
      }
      let tNew = this.t + h;
      if (this.t + 1.01 * h >= tLimit) {
        tNew = tLimit;
        h = tLimit - this.t;
      }
      stats.nsteps++;
      const k = this.k;
      this.attempt(h, tNew, k, true);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(y[i]);
        const b = Math.abs(yNew[i]);
        this.scale[i] = atol[i] + rtol[i] * Math.max(a, b);
        total += b;
      }
      const errK = Number.isFinite(total) ? this.errorAt(k, h) : Number.NaN;
      if (errK <= 1) {
        this.chooseNext(h, errK, rejected);
        stats.naccept++;
        this.commit(tNew, true);
        return ACCEPTED;
      }
      stats.nreject++;
      nonFinite = !Number.isFinite(errK);
      rejected = true;
      this.startPhase = false;
      if (nonFinite) {
        h *= 0.25;
        continue;
      }
      const lower = k > 1 && this.errorAt(k - 1, h) <= errK;
      h *= Math.min(0.9, Math.max(MIN_REJECT, SAFETY * errK ** (-1 / (k + 1))));
      if (lower) {
        this.k = k - 1;
        this.stepsAtOrder = 0;
      }
    }
  }

  /** Order and step size for the next step, from the error estimates at orders k − 1, k and k + 1. */
  private chooseNext(h: number, errK: number, rejected: boolean): void {
    const k = this.k;
    const ratio = (err: number, order: number) => (err === 0 ? MAX_GROWTH : (1 / err) ** (1 / (order + 1)));
    let bestOrder = k;
    let best = ratio(errK, k);
    if (k > 1) {
      const r = ratio(this.errorAt(k - 1, h), k - 1);
      if (r > best) {
        best = r;
        bestOrder = k - 1;
      }
    }
    const canRaise =
      k < this.maxOrder && this.nHist >= k + 1 && (this.startPhase || this.stepsAtOrder >= k + 1);
    if (canRaise) {
      const r = ratio(this.errorAt(k + 1, h), k + 1);
      if (r > best) {
        best = r;
        bestOrder = k + 1;
      }
    }
    if (this.startPhase && bestOrder <= k && this.nHist > 1) this.startPhase = false;
    if (bestOrder !== k) {
      this.k = bestOrder;
      this.stepsAtOrder = 0;
    } else {
      this.stepsAtOrder++;
    }
    let factor = Math.min(MAX_GROWTH, Math.max(MIN_SHRINK, SAFETY * best));
    if (rejected) factor = Math.min(1, factor);
    this.hNext = h * factor;
  }

  /** Accept yNew at tNew: update the divided differences with f at the accepted point. */
  private commit(tNew: number, reevaluate: boolean): void {
    const { n, times } = this;
    const old = this.yPrev;
    this.yPrev = this.y;
    this.y = this.yNew;
    this.yNew = old;
    // New differences into dPrev's buffers, then swap: dPrev keeps the old ones for dense output.
    const next = this.dPrev;
    if (reevaluate) this.f(tNew, this.y, next[0]);
    else next[0].set(this.fp);
    // Keep only the differences the next steps can use (the order rises by at most one per step).
    const cap = Math.min(
      this.dim,
      this.kind === 'variable' ? this.k + 3 : this.predictorOrder + 1,
      this.nHist + 1,
    );
    for (let i = 1; i < cap; i++) {
      const di = next[i];
      const dPrevI = next[i - 1];
      const dOld = this.dCur[i - 1];
      const denom = tNew - times[i - 1];
      for (let j = 0; j < n; j++) di[j] = (dPrevI[j] - dOld[j]) / denom;
    }
    this.dPrev = this.dCur;
    this.dCur = next;
    for (let j = cap - 1; j >= 1; j--) times[j] = times[j - 1];
    times[0] = tNew;
    this.nHist = cap;
    this.tPrev = this.t;
    this.t = tNew;
  }

  denseEvaluate(t: number, out: Float64Array): Float64Array {
    if (this.pStep < 0) return this.startupPiece!.evaluate(t, out);
    const { n, ints, hStep: h, pStep: p } = this;
    if (h === 0 || t === this.t) {
      out.set(this.y);
      return out;
    }
    const theta = (t - this.tPrev) / h;
    const top = this.corrected ? p : p - 1;
    fillIntegrals(this.ratios, 0, Math.max(top, 0), theta, this.poly, ints);
    out.set(this.yPrev);
    let hp = h;
    for (let i = 0; i <= top; i++) {
      const v = i < p ? this.dPrev[i] : this.corr;
      const w = hp * ints[i];
      for (let j = 0; j < n; j++) out[j] += w * v[j];
      hp *= h;
    }
    return out;
  }

  denseFreeze(): Interpolant {
    if (this.pStep < 0) return this.startupPiece!;
    const { n, hStep: h, pStep: p } = this;
    const top = this.corrected ? p : p - 1;
    // Monomial coefficients in θ of ∫_0^θ P_i, built like fillIntegrals but keeping every power.
    const coeffs = new Float64Array((top + 2) * n);
    coeffs.set(this.yPrev);
    const poly = new Float64Array(top + 2);
    poly[0] = 1;
    let hp = h;
    for (let i = 0; i <= top; i++) {
      const v = i < p ? this.dPrev[i] : this.corr;
      for (let j = 0; j <= i; j++) {
        const cf = (hp * poly[j]) / (j + 1);
        if (cf === 0) continue;
        const off = (j + 1) * n;
        for (let q = 0; q < n; q++) coeffs[off + q] += cf * v[q];
      }
      hp *= h;
      const ri = this.ratios[i];
      poly[i + 1] = 0;
      for (let j = i + 1; j >= 1; j--) poly[j] = poly[j - 1] + ri * poly[j];
      poly[0] *= ri;
    }
    return new PolynomialPiece(this.tPrev, this.t, n, coeffs);
  }
}

function allFinite(v: Float64Array): boolean {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * 0;
  return s === 0;
}

export interface AdamsOptions {
  /** Highest order of the variable-order method (1–12, default 12). */
  readonly maxOrder?: number;
}

export interface FixedAdamsOptions {
  /** Order of the method (1–12, default 4). */
  readonly order?: number;
}

function checkOrder(name: string, order: number): number {
  if (!Number.isInteger(order) || order < 1 || order > MAX_ORDER) {
    throw new RangeError(`${name}: order must be an integer from 1 to ${MAX_ORDER}, got ${order}`);
  }
  return order;
}

/** Variable-step, variable-order Adams–Bashforth–Moulton PECE (`'adams'`). */
export function adamsMethod(options: AdamsOptions = {}): MethodFactory {
  const maxOrder = checkOrder('adamsMethod', options.maxOrder ?? MAX_ORDER);
  return Object.freeze({
    name: 'adams',
    fixedStep: false,
    stiff: false,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, o: StepperOptions): Stepper =>
      new AdamsStepper(f, t0, y0, tEnd, o, 'variable', 0, maxOrder),
  });
}

/** Fixed-step Adams–Bashforth of the given order (default 4) with RK4 start (`'explicit-adams'`). */
export function explicitAdamsMethod(options: FixedAdamsOptions = {}): MethodFactory {
  const order = checkOrder('explicitAdamsMethod', options.order ?? 4);
  return Object.freeze({
    name: 'explicit-adams',
    fixedStep: true,
    stiff: false,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, o: StepperOptions): Stepper =>
      new AdamsStepper(f, t0, y0, tEnd, o, 'explicit', order, order),
  });
}

/**
 * Fixed-step Adams–Moulton of the given order (default 4) in PECE form: an Adams–Bashforth predictor of order
 * − 1 and one correction, with RK4 start (`'implicit-adams'`).
 */
export function implicitAdamsMethod(options: FixedAdamsOptions = {}): MethodFactory {
  const order = checkOrder('implicitAdamsMethod', options.order ?? 4);
  return Object.freeze({
    name: 'implicit-adams',
    fixedStep: true,
    stiff: false,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, o: StepperOptions): Stepper =>
      new AdamsStepper(f, t0, y0, tEnd, o, 'implicit', order, order),
  });
}
