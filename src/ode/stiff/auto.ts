/**
 * `'auto'`: a non-stiff method that hands over to a stiff one when the problem turns stiff and back when the
 * stiffness passes, in the spirit of LSODA (L. R. Petzold, "Automatic selection of methods for solving stiff
 * and nonstiff systems of ordinary differential equations", SIAM J. Sci. Stat. Comput. 4 (1983) 136–148).
 *
 * Stiffness test. Every CHECK_INTERVAL accepted steps the switcher estimates the spectral radius ρ of ∂f/∂y
 * at the current point by a few power iterations on finite differences of f (no Jacobian needed), and
 * compares h·ρ with the stability boundary of the explicit method on the negative real axis (≈ 3.3 for
 * Dormand–Prince 5(4)):
 *  - non-stiff mode: when h·ρ > 0.5·boundary at two consecutive checks, the step size is set by stability,
 *    not accuracy; the explicit method is crawling, so the stiff method takes over;
 *  - stiff mode: when h·ρ < 0.35·boundary at two consecutive checks, the explicit method could take the stiff
 *    method's (accuracy-limited) step while staying stable, and it is cheaper per step, so it takes over.
 * Two consecutive votes and the gap between 0.35 and 0.5 keep the switcher from oscillating. A non-stiff
 * method that gives up (failure code 'stiff' or a step-size underflow) also hands over at once.
 *
 * The hand-over threshold sits well inside the stability region (half the boundary) because an explicit
 * method held near its boundary by stability keeps h·ρ just below it: with a threshold at 0.7·boundary
 * Dormand–Prince crawled along stretches of the Oregonator at rtol 1e-8 at twice Radau's step count.
 *
 * The stiff method may depend on the tolerance: `stiffLoose` (when given) serves solves with an analytic
 * Jacobian whose relative tolerances are all ≥ `looseRtol`, where a Rosenbrock method needs fewer
 * evaluations than Radau (it needs a new Jacobian every step, too costly by finite differences).
 *
 * Switches happen at the start of the next `step` call, so the interpolant of the step just taken stays
 * valid for the driver. Each switch is recorded in `stats.switches`.
 */
import type { Dynamics, Interpolant, MethodFactory, StepOutcome, Stepper, StepperOptions } from '../types.js';
import { EPS } from './common.js';

const CHECK_INTERVAL = 12;
const POWER_ITERATIONS = 5;
/** Stability boundary of Dormand–Prince 5(4) on the negative real axis. */
const DEFAULT_STABILITY_BOUNDARY = 3.3;
const TO_STIFF = 0.5;
const TO_NONSTIFF = 0.35;
const DEFAULT_LOOSE_RTOL = 1e-5;

export interface AutoOptions {
  readonly nonstiff: MethodFactory;
  readonly stiff: MethodFactory;
  /**
   * Stiff method for loose tolerances (every rtol ≥ `looseRtol`) when the user supplies a Jacobian;
   * default: `stiff` in every case.
   */
  readonly stiffLoose?: MethodFactory;
  /** Smallest relative tolerance that counts as loose (default 1e-5). */
  readonly looseRtol?: number;
  /** |hλ| at which the non-stiff method's stability region ends on the negative real axis. */
  readonly stabilityBoundary?: number;
}

class AutoStepper implements Stepper {
  readonly method = 'auto';
  private inner: Stepper;
  private stiffMode = false;
  private pending = false;
  private sinceCheck = 0;
  private votes = 0;

  private readonly f0: Float64Array;
  private readonly v: Float64Array;
  private readonly w: Float64Array;
  private readonly yp: Float64Array;
  private readonly stiffFactory: MethodFactory;

  constructor(
    private readonly f: Dynamics,
    t0: number,
    y0: Float64Array,
    private readonly tEnd: number,
    private readonly options: StepperOptions,
    private readonly methods: AutoOptions,
  ) {
    const n = y0.length;
    this.f0 = new Float64Array(n);
    this.v = new Float64Array(n);
    this.w = new Float64Array(n);
    this.yp = new Float64Array(n);
    this.inner = methods.nonstiff.create(f, t0, y0, tEnd, options);
    let rtolMin = Number.POSITIVE_INFINITY;
    for (let i = 0; i < options.rtol.length; i++) rtolMin = Math.min(rtolMin, options.rtol[i]);
    // A Rosenbrock method needs a fresh Jacobian every step: only worth it when that Jacobian is analytic
    // (by finite differences it would cost n evaluations of f per step).
    this.stiffFactory =
      methods.stiffLoose !== undefined &&
      options.jacobian !== undefined &&
      rtolMin >= (methods.looseRtol ?? DEFAULT_LOOSE_RTOL)
        ? methods.stiffLoose
        : methods.stiff;
  }

  get order(): number {
    return this.inner.order;
  }
  get t(): number {
    return this.inner.t;
  }
  get tPrev(): number {
    return this.inner.tPrev;
  }
  get y(): Float64Array {
    return this.inner.y;
  }
  /** Name of the method currently stepping. */
  get current(): string {
    return this.inner.method;
  }

  interpolant(): Interpolant {
    return this.inner.interpolant();
  }

  restart(t: number, y: Float64Array): void {
    if (this.pending) this.doSwitch();
    this.inner.restart(t, y);
    this.sinceCheck = 0;
    this.votes = 0;
  }

  step(tLimit: number): StepOutcome {
    if (this.pending) this.doSwitch();
    let outcome = this.inner.step(tLimit);
    if (
      outcome.kind === 'failed' &&
      !this.stiffMode &&
      (outcome.code === 'stiff' || outcome.code === 'stepSizeUnderflow')
    ) {
      this.doSwitch();
      outcome = this.inner.step(tLimit);
    }
    if (outcome.kind === 'accepted' && this.inner.t < tLimit && ++this.sinceCheck >= CHECK_INTERVAL) {
      this.sinceCheck = 0;
      this.checkStiffness();
    }
    return outcome;
  }

  private checkStiffness(): void {
    const h = this.inner.t - this.inner.tPrev;
    const rho = this.spectralRadius(this.inner.t, this.inner.y);
    const boundary = this.methods.stabilityBoundary ?? DEFAULT_STABILITY_BOUNDARY;
    const vote = this.stiffMode ? h * rho < TO_NONSTIFF * boundary : h * rho > TO_STIFF * boundary;
    this.votes = vote ? this.votes + 1 : 0;
    if (this.votes >= 2) this.pending = true;
  }

  private doSwitch(): void {
    this.pending = false;
    this.votes = 0;
    this.sinceCheck = 0;
    const t = this.inner.t;
    const y = this.inner.y;
    this.stiffMode = !this.stiffMode;
    const factory = this.stiffMode ? this.stiffFactory : this.methods.nonstiff;
    // The new method picks its own first step: the old step size says little about what it can take.
    this.inner = factory.create(this.f, t, y, this.tEnd, { ...this.options, firstStep: undefined });
    const stats = this.options.stats;
    if (stats.switches === undefined) stats.switches = [];
    stats.switches.push({ t, to: factory.name });
  }

  /**
   * |λ_max| of ∂f/∂y at (t, y) by power iteration on directional finite differences
   * (f(y + δv) − f(y))/δ ≈ J·v. Costs POWER_ITERATIONS + 1 evaluations of f.
   */
  private spectralRadius(t: number, y: Float64Array): number {
    const { f, f0, v, w, yp } = this;
    const n = y.length;
    if (n === 0) return 0;
    f(t, y, f0);
    let yNorm = 0;
    for (let i = 0; i < n; i++) {
      yNorm += y[i] * y[i];
      // A fixed, sign-varying start so that no eigen-direction is missed systematically.
      v[i] =
        (this.options.atol[i] + this.options.rtol[i] * Math.abs(y[i])) *
        (1 + 0.37 * (i % 3)) *
        (i % 2 ? -1 : 1);
    }
    yNorm = Math.sqrt(yNorm);
    let rho = 0;
    for (let iter = 0; iter < POWER_ITERATIONS; iter++) {
      let vNorm = 0;
      for (let i = 0; i < n; i++) vNorm += v[i] * v[i];
      vNorm = Math.sqrt(vNorm);
      if (!(vNorm > 0) || !Number.isFinite(vNorm)) break;
      const delta = (Math.sqrt(EPS) * (1 + yNorm)) / vNorm;
      for (let i = 0; i < n; i++) yp[i] = y[i] + delta * v[i];
      f(t, yp, w);
      let wNorm = 0;
      for (let i = 0; i < n; i++) {
        const d = (w[i] - f0[i]) / delta;
        w[i] = d;
        wNorm += d * d;
      }
      wNorm = Math.sqrt(wNorm);
      rho = wNorm / vNorm;
      v.set(w);
    }
    return Number.isFinite(rho) ? rho : 0;
  }
}

/** Build an `'auto'` method from a non-stiff and a stiff method. */
export function createAutoMethod(methods: AutoOptions): MethodFactory {
  if (methods.stiffLoose !== undefined && !methods.stiffLoose.stiff) {
    throw new TypeError(
      `createAutoMethod: stiffLoose must be a stiff method, got '${methods.stiffLoose.name}' (stiff: false)`,
    );
  }
  const looseRtol = methods.looseRtol;
  if (looseRtol !== undefined && !(looseRtol > 0 && Number.isFinite(looseRtol))) {
    throw new RangeError(`createAutoMethod: looseRtol must be a positive finite number, got ${looseRtol}`);
  }
  if (methods.nonstiff.stiff || !methods.stiff.stiff) {
    throw new TypeError(
      `createAutoMethod: expected a non-stiff and a stiff method, got nonstiff='${methods.nonstiff.name}' ` +
        `(stiff: ${methods.nonstiff.stiff}) and stiff='${methods.stiff.name}' (stiff: ${methods.stiff.stiff})`,
    );
  }
  return Object.freeze({
    name: 'auto',
    fixedStep: false,
    stiff: true,
    create: (f: Dynamics, t0: number, y0: Float64Array, tEnd: number, options: StepperOptions): Stepper =>
      new AutoStepper(f, t0, y0, tEnd, options, methods),
  });
}
