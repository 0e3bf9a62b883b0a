/**
 * What the forward solve keeps for the discrete-adjoint gradient modes, and their backward pass.
 *
 * - 'direct' keeps every accepted step's stage inputs (memory grows with the number of steps, no
 *   recomputation). For dynamics with flat kernels that save their intermediates, it also keeps those of
 *   every used stage (found among the forward solve's last evaluations), so that the VJPs start from them
 *   instead of evaluating f again.
 * - 'checkpoint' keeps each step's times and the start states of at most `checkpoints` evenly spaced steps
 *   (every step when unlimited). The backward pass recomputes one segment between checkpoints at a time with
 *   the recorded step sizes, then backpropagates through it with the same discrete adjoint as 'direct'.
 *
 * Outputs are read from the dense output of the step that covers them (differentiated through the
 * interpolation polynomial) for tableaus whose interpolant is a matrix over the main stages (dopri5, tsit5,
 * bosh3); for the others the output times are stop times of the solve and every output is a step end.
 */
import type { RungeKuttaStepper } from '../ode/runge-kutta.js';
import { GrowableBuffer } from './growable.js';
import { type InteriorOutputs, RungeKuttaAdjoint } from './runge-kutta-adjoint.js';
import type { SavedLease } from './saved-lease.js';
import type { BackwardStats } from './stats.js';
import type { VectorField } from './vector-field.js';

export interface TapeBackwardResult {
  /** Σ t̄ over all stages (sensitivity to shifting every time of the solve together). */
  readonly stageTimeBar: number;
  /** Largest number of floats held at once by the backward pass. */
  readonly backwardFloats: number;
}

export class StepTape {
  private adjoint: RungeKuttaAdjoint | undefined;
  /** Per step: t start, t end, signed step size H (caller's time). */
  private readonly times = new GrowableBuffer(192);
  /** 'direct': stage inputs of every step. 'checkpoint': start states of the checkpointed steps. */
  private readonly states = new GrowableBuffer(256);
  /** Step index of each stored checkpoint state ('checkpoint' mode). */
  private checkpointSteps: number[] = [];
  private stride = 1;
  /** Per output: the step that produced it, θ in that step (1 at its end) and the interpolant's step size. */
  private readonly outputStep: Int32Array;
  private readonly outputTheta: Float64Array;
  private readonly outputH: Float64Array;
  private steps = 0;
  /** Where each step's saved intermediates start in the lease's buffer ('direct' with `saving`; −1: none). */
  private readonly savedAt = new GrowableBuffer(64);
  private readonly savedSize: number;
  private readonly savedGeneration: number;

  constructor(
    private readonly mode: 'direct' | 'checkpoint',
    private readonly n: number,
    private readonly direction: 1 | -1,
    /** Largest number of stored start states ('checkpoint'), Infinity for one per step. */
    private readonly maxCheckpoints: number,
    /** Outputs may lie inside steps (read from dense output). */
    private readonly dense: boolean,
    numOutputs: number,
    /** The dynamics whose last evaluations to take intermediates from ('direct' only), or null. */
    private readonly saving: VectorField | null = null,
    /** Where to keep them (claimed for this solve). */
    private readonly lease: SavedLease | null = null,
  ) {
    this.savedSize = saving === null || lease === null ? 0 : saving.savedSize;
    this.savedGeneration = lease === null ? -1 : lease.generation;
    this.outputStep = new Int32Array(numOutputs).fill(-1);
    this.outputTheta = new Float64Array(numOutputs);
    this.outputH = new Float64Array(numOutputs);
  }

  /** Record the step the stepper has just accepted. */
  onAccept(stepper: RungeKuttaStepper): void {
    if (this.adjoint === undefined) this.adjoint = new RungeKuttaAdjoint(stepper.tableau, this.n, this.dense);
    const { yPrev, stages, h } = stepper.acceptedStep();
    const d = this.direction;
    const at = this.times.reserve(3);
    this.times.data[at] = d * stepper.tPrev;
    this.times.data[at + 1] = d * stepper.t;
    this.times.data[at + 2] = d * h;
    const n = this.n;
    if (this.mode === 'direct') {
      const adj = this.adjoint;
      const off = this.states.reserve(adj.usedCount * n);
      adj.stageInputsFromStepper(yPrev, stages, h, this.states.data, off);
      if (this.savedSize > 0) this.saveStages(d * stepper.tPrev, d * stepper.t, d * h, off);
    } else if (this.steps % this.stride === 0) {
      this.checkpointSteps.push(this.steps);
      const off = this.states.reserve(n);
      this.states.data.set(yPrev, off);
      if (this.checkpointSteps.length > this.maxCheckpoints) this.thin();
    }
    this.steps++;
  }

  /** Take the intermediates of this step's used stages from the dynamics' last evaluations (all or none). */
  private saveStages(t0: number, t1: number, h: number, off: number): void {
    const adj = this.adjoint as RungeKuttaAdjoint;
    const field = this.saving as VectorField;
    const n = this.n;
    const size = this.savedSize;
    const saved = (this.lease as SavedLease).saved;
    const start = saved.reserve(adj.usedCount * size);
    let k = 0;
    for (let i = 0; i < adj.stages; i++) {
      if (adj.used[i] === 0) continue;
      const input = this.states.data.subarray(off + k * n, off + (k + 1) * n);
      if (!field.findSaved(adj.stageTime(i, t0, t1, h), input, saved.data, start + k * size)) {
        saved.length = start;
        this.savedAt.push(-1);
        return;
      }
      k++;
    }
    this.savedAt.push(start);
  }

  /** Keep every other checkpoint and double the stride (so they stay evenly spaced in steps). */
  private thin(): void {
    const n = this.n;
    const data = this.states.data;
    const kept: number[] = [];
    for (let i = 0; i < this.checkpointSteps.length; i += 2) {
      data.copyWithin(kept.length * n, i * n, (i + 1) * n);
      kept.push(this.checkpointSteps[i]);
    }
    this.checkpointSteps = kept;
    this.states.length = kept.length * n;
    this.stride *= 2;
  }

  /**
   * Output `index` was read from the last recorded step: at its end (theta = 1) or from its dense output at
   * θ = theta with interpolant step size h (caller's time).
   */
  onOutput(index: number, theta: number, h: number): void {
    this.outputStep[index] = this.steps - 1;
    this.outputTheta[index] = theta;
    this.outputH[index] = h;
  }

  private get savedFloats(): number {
    const lease = this.lease as SavedLease;
    return lease.generation === this.savedGeneration ? lease.saved.length : 0;
  }

  get numSteps(): number {
    return this.steps;
  }

  get storedFloats(): number {
    return this.times.length + this.states.length + (this.savedSize > 0 ? this.savedFloats : 0);
  }

  /**
   * Backward pass: `lambda` enters as zeros and leaves as ∂L/∂y0 (without the cotangent of output 0, which
   * the caller adds); `cotangent` is ∂L/∂outputs (T·n). Adds parameter cotangents to `thetaBar`.
   */
  backward(
    field: VectorField,
    cotangent: Float64Array,
    lambda: Float64Array,
    thetaBar: Float64Array | null,
    stats: BackwardStats,
  ): TapeBackwardResult {
    const adj = this.adjoint;
    const n = this.n;
    if (adj === undefined) return { stageTimeBar: 0, backwardFloats: 0 };
    const times = this.times.data;
    let stageTimeBar = 0;
    let segment: Float64Array | null = null;
    // Intermediates of the recomputed segment's used stages ('checkpoint' with saving dynamics).
    const segmentSavedSize = this.mode === 'checkpoint' ? field.savedSize * adj.usedCount : 0;
    let segmentSaved: Float64Array | null = null;
    let segmentStart = this.steps;
    let backwardFloats = 0;
    const stepFloats = adj.usedCount * n;
    const yA = new Float64Array(n);
    const yB = new Float64Array(n);
    let cpIndex = this.checkpointSteps.length - 1;
    // The saved intermediates are read only if no later solve has claimed the lease since.
    const savedValid =
      this.mode === 'direct' && this.savedSize > 0 && this.lease?.generation === this.savedGeneration;
    let nextOutput = this.outputStep.length - 1;
    const indices: number[] = [];
    const theta = new Float64Array(this.outputStep.length);
    const hDense = new Float64Array(this.outputStep.length);
    const interior: InteriorOutputs = { cotangent, indices, theta, h: hDense };
    for (let m = this.steps - 1; m >= 0; m--) {
      indices.length = 0;
      while (nextOutput >= 1 && this.outputStep[nextOutput] === m) {
        const out = nextOutput--;
        if (this.outputTheta[out] === 1) {
          const off = out * n;
          for (let q = 0; q < n; q++) lambda[q] += cotangent[off + q];
        } else {
          theta[indices.length] = this.outputTheta[out];
          hDense[indices.length] = this.outputH[out];
          indices.push(out);
        }
      }
      const t0 = times[3 * m];
      const t1 = times[3 * m + 1];
      const h = times[3 * m + 2];
      let inputs: Float64Array;
      let at: number;
      if (this.mode === 'direct') {
        inputs = this.states.data;
        at = m * stepFloats;
      } else {
        if (m < segmentStart) {
          // Recompute the segment from the checkpoint at or below m up to m.
          while (this.checkpointSteps[cpIndex] > m) cpIndex--;
          const first = this.checkpointSteps[cpIndex];
          const len = m - first + 1;
          if (segment === null || segment.length < len * stepFloats)
            segment = new Float64Array(len * stepFloats);
          if (segmentSavedSize > 0 && (segmentSaved === null || segmentSaved.length < len * segmentSavedSize))
            segmentSaved = new Float64Array(len * segmentSavedSize);
          backwardFloats = Math.max(backwardFloats, segment.length + (segmentSaved?.length ?? 0));
          yA.set(this.states.data.subarray(cpIndex * n, (cpIndex + 1) * n));
          let y = yA;
          let next = yB;
          for (let j = first; j <= m; j++) {
            const e = adj.recompute(
              field,
              times[3 * j],
              times[3 * j + 1],
              times[3 * j + 2],
              y,
              segment,
              (j - first) * stepFloats,
              next,
              segmentSaved,
              (j - first) * segmentSavedSize,
            );
            stats.nfe += e;
            stats.nrecompute += e;
            const tmp = y;
            y = next;
            next = tmp;
          }
          segmentStart = first;
        }
        inputs = segment as Float64Array;
        at = (m - segmentStart) * stepFloats;
      }
      const before = stats.nvjp;
      let saved: Float64Array | null = null;
      let savedAt = 0;
      if (savedValid && this.savedAt.data[m] >= 0) {
        saved = (this.lease as SavedLease).saved.data;
        savedAt = this.savedAt.data[m];
      } else if (segmentSaved !== null) {
        saved = segmentSaved;
        savedAt = (m - segmentStart) * segmentSavedSize;
      }
      stageTimeBar += adj.backpropagate(
        field,
        t0,
        t1,
        h,
        inputs,
        at,
        lambda,
        thetaBar,
        indices.length > 0 ? interior : null,
        saved,
        savedAt,
      );
      const count = adj.usedCount;
      stats.nvjp = before + count;
      stats.nfe += count;
      stats.nsteps++;
      stats.naccept++;
    }
    return { stageTimeBar, backwardFloats };
  }
}
