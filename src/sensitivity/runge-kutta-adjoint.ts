/**
 * The discrete adjoint of one explicit Runge–Kutta step, shared by the 'direct' and 'checkpoint' gradient
 * modes. For the step y₁ = y₀ + H·Σ bᵢ Fᵢ with Fᵢ = f(t₀ + cᵢH, Yᵢ), Yᵢ = y₀ + H·Σ_{j<i} aᵢⱼ Fⱼ and the
 * cotangent λ = ∂L/∂y₁, reverse-mode differentiation gives F̄ᵢ = H bᵢ λ and, for i = s…1,
 * (Ȳᵢ, θ̄ᵢ, t̄ᵢ) = vjp(t₀ + cᵢH, Yᵢ, F̄ᵢ); ȳ₀ += Ȳᵢ; F̄ⱼ += H aᵢⱼ Ȳᵢ (j < i).
 * Step sizes are constants of the solve (the controller is not differentiated), so this is the exact
 * gradient of the computed solution.
 *
 * Outputs read from a step's dense output y(t₀ + θH) = y₀ + H·Σ wᵢ(θ) Fᵢ (wᵢ polynomials in θ, the tableau's
 * interpolation matrix) are differentiated the same way: ȳ₀ += g and F̄ᵢ += H wᵢ(θ) g.
 *
 * Everything is written in the caller's time: with the solver's internal frame s = −t of a backward solve,
 * H = −h and Fᵢ = −kᵢ, so H·Fᵢ = h·kᵢ and the stage inputs are the same numbers in both frames.
 */
import type { ButcherTableau } from '../ode/tableau.js';
import type { VectorField } from './vector-field.js';

/** Outputs that lie strictly inside one step, read from its dense output. */
export interface InteriorOutputs {
  /** ∂L/∂outputs, T·n. */
  readonly cotangent: Float64Array;
  /** Output indices inside this step. */
  readonly indices: readonly number[];
  /** θ ∈ (0, 1) of each output in the step. */
  readonly theta: Float64Array;
  /** The step size the interpolant used for each output (caller's time). */
  readonly h: Float64Array;
}

/** Whether a tableau's dense output can be differentiated here (interpolation matrix over the main stages). */
export function hasDifferentiableDenseOutput(tableau: ButcherTableau): boolean {
  return tableau.dense !== undefined && (tableau.dense.extraStages?.a.length ?? 0) === 0;
}

export class RungeKuttaAdjoint {
  readonly stages: number;
  /** Dense lower-triangular a (row-major s×s), b and c. */
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  private readonly c: Float64Array;
  /** Stages whose derivative Fᵢ enters y₁ or a later stage: only these are evaluated and differentiated. */
  readonly used: Uint8Array;
  /** Number of used stages (floats stored per step per state component). */
  readonly usedCount: number;
  private readonly stageBar: Float64Array;
  private readonly yBarStage: Float64Array;
  private readonly stageF: Float64Array;
  /** Interpolation matrix (stage × degree, row-major) when outputs come from dense output, else undefined. */
  private readonly p: Float64Array | undefined;
  private readonly degree: number;

  constructor(
    tableau: ButcherTableau,
    private readonly n: number,
    dense: boolean,
  ) {
    const s = tableau.stages;
    this.stages = s;
    this.p =
      dense && tableau.dense !== undefined
        ? Float64Array.from(tableau.dense.p.slice(0, s).flat())
        : undefined;
    this.degree = tableau.dense?.p[0].length ?? 0;
    this.a = new Float64Array(s * s);
    for (let i = 0; i < s; i++) {
      const row = tableau.a[i] ?? [];
      for (let j = 0; j < row.length && j < i; j++) this.a[i * s + j] = row[j];
    }
    this.b = Float64Array.from(tableau.b);
    this.c = Float64Array.from(tableau.c);
    this.used = new Uint8Array(s);
    for (let i = s - 1; i >= 0; i--) {
      let u = this.b[i] !== 0;
      for (let j = 0; j < this.degree && this.p !== undefined && !u; j++)
        u = this.p[i * this.degree + j] !== 0;
      for (let k = i + 1; k < s && !u; k++) u = this.used[k] === 1 && this.a[k * s + i] !== 0;
      this.used[i] = u ? 1 : 0;
    }
    this.usedCount = this.used.reduce((acc, u) => acc + u, 0);
    this.stageBar = new Float64Array(s * n);
    this.yBarStage = new Float64Array(n);
    this.stageF = new Float64Array(s * n);
  }

  /** Time of stage i of a step [t0, t1] of size h (c = 1 lands exactly on t1, as the stepper does). */
  stageTime(i: number, t0: number, t1: number, h: number): number {
    const ci = this.c[i];
    return ci === 1 ? t1 : t0 + ci * h;
  }

  /**
   * Writes the used stage inputs of an accepted step into `dest` (usedCount·n floats, in stage order), from
   * the stepper's start state and stage derivatives (internal frame, step h > 0).
   */
  stageInputsFromStepper(
    yPrev: Float64Array,
    k: Float64Array,
    h: number,
    dest: Float64Array,
    at: number,
  ): void {
    const { n, stages, a, used } = this;
    let slot = at;
    for (let i = 0; i < stages; i++) {
      if (used[i] === 0) continue;
      for (let q = 0; q < n; q++) {
        let acc = 0;
        for (let j = 0; j < i; j++) {
          const aij = a[i * stages + j];
          if (aij !== 0) acc += aij * k[j * n + q];
        }
        dest[slot + q] = yPrev[q] + h * acc;
      }
      slot += n;
    }
  }

  /**
   * Recomputes a step from its start state (checkpoint mode): writes the used stage inputs into `dest` and
   * the end state into `yEnd`, and (when `saved` is given) the used stages' intermediates into `saved` from
   * `savedAt`. Returns the number of evaluations of f.
   */
  recompute(
    field: VectorField,
    t0: number,
    t1: number,
    h: number,
    y0: Float64Array,
    dest: Float64Array,
    at: number,
    yEnd: Float64Array,
    saved: Float64Array | null = null,
    savedAt = 0,
  ): number {
    const { n, stages, a, b, used, stageF } = this;
    const size = saved === null ? 0 : field.savedSize;
    let slot = at;
    let evals = 0;
    for (let i = 0; i < stages; i++) {
      if (used[i] === 0) continue;
      const yi = dest.subarray(slot, slot + n);
      for (let q = 0; q < n; q++) {
        let acc = 0;
        for (let j = 0; j < i; j++) {
          const aij = a[i * stages + j];
          if (aij !== 0) acc += aij * stageF[j * n + q];
        }
        yi[q] = y0[q] + h * acc;
      }
      field.evaluate(this.stageTime(i, t0, t1, h), yi, stageF.subarray(i * n, (i + 1) * n));
      if (saved !== null) field.saveLast(saved, savedAt + evals * size);
      evals++;
      slot += n;
    }
    for (let q = 0; q < n; q++) {
      let acc = 0;
      for (let i = 0; i < stages; i++) if (b[i] !== 0) acc += b[i] * stageF[i * n + q];
      yEnd[q] = y0[q] + h * acc;
    }
    return evals;
  }

  /**
   * Backpropagates `lambda` = ∂L/∂y₁ through one step in place (it becomes ∂L/∂y₀), adding the parameter
   * cotangent to `thetaBar` (when given). `stageInputs` holds the used stage inputs from offset `at`.
   * When `saved` is given, the used stages' intermediates are stored there from `savedAt` (in stage order)
   * and the VJPs start from them. Returns Σ t̄ᵢ, the sensitivity to shifting all stage times together.
   */
  backpropagate(
    field: VectorField,
    t0: number,
    t1: number,
    h: number,
    stageInputs: Float64Array,
    at: number,
    lambda: Float64Array,
    thetaBar: Float64Array | null,
    interior: InteriorOutputs | null,
    saved: Float64Array | null = null,
    savedAt = 0,
  ): number {
    const { n, stages, a, b, used, stageBar, yBarStage } = this;
    const size = saved === null ? 0 : field.savedSize;
    let k = this.usedCount - 1;
    for (let i = 0; i < stages; i++) {
      const off = i * n;
      const w = h * b[i];
      for (let q = 0; q < n; q++) stageBar[off + q] = w * lambda[q];
    }
    if (interior !== null) this.addInteriorOutputs(interior, lambda);
    let tBar = 0;
    // Offset of each used stage's input in the tape, walking backwards.
    let slot = at + (this.usedCount - 1) * n;
    for (let i = stages - 1; i >= 0; i--) {
      if (used[i] === 0) continue;
      yBarStage.fill(0);
      const ti = this.stageTime(i, t0, t1, h);
      const yi = stageInputs.subarray(slot, slot + n);
      const vi = stageBar.subarray(i * n, (i + 1) * n);
      tBar +=
        saved === null
          ? field.vjp(ti, yi, vi, yBarStage, thetaBar, null)
          : field.vjpSaved(ti, yi, vi, yBarStage, thetaBar, saved, savedAt + k * size);
      slot -= n;
      k--;
      for (let q = 0; q < n; q++) lambda[q] += yBarStage[q];
      for (let j = 0; j < i; j++) {
        const w = h * a[i * stages + j];
        if (w === 0) continue;
        const off = j * n;
        for (let q = 0; q < n; q++) stageBar[off + q] += w * yBarStage[q];
      }
    }
    return tBar;
  }

  /**
   * Dense outputs inside the step: F̄ᵢ += H wᵢ(θ) g for every stage, and ȳ₀ += g (added to `lambda` now,
   * after the b-terms have been taken from it: ȳ₀ only accumulates from here on).
   */
  private addInteriorOutputs(interior: InteriorOutputs, lambda: Float64Array): void {
    const { n, stages, stageBar, degree } = this;
    const p = this.p as Float64Array;
    const { cotangent, indices, theta, h } = interior;
    for (let k = 0; k < indices.length; k++) {
      const gOff = indices[k] * n;
      const th = theta[k];
      for (let i = 0; i < stages; i++) {
        let w = 0;
        for (let j = degree - 1; j >= 0; j--) w = (w + p[i * degree + j]) * th;
        if (w === 0) continue;
        const cf = h[k] * w;
        const off = i * n;
        for (let q = 0; q < n; q++) stageBar[off + q] += cf * cotangent[gOff + q];
      }
      for (let q = 0; q < n; q++) lambda[q] += cotangent[gOff + q];
    }
  }
}
