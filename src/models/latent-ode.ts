/**
 * The latent ODE of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS 2018), section 5: a
 * variational autoencoder whose latent trajectory solves dz/dt = f(z).
 *
 * - Recognition network: an Elman RNN (or, with `encoder: 'gru'`, a GRU) run backwards in time over a row's
 *   observations with input [x_k, t_k − t_{k−1}] (t_{−1} = t0), whose final state gives the mean and
 *   log-variance of q(z(t0)).
 * - Dynamics f: an ELU (or tanh) MLP latent → hidden → … → latent (`odeLayers` hidden layers); one ODE solve
 *   (classical RK4, steps no longer than `maxStep`, cubic Hermite dense output) gives the states at the
 *   sorted union of the batch's observation times, and each row gathers its own times.
 * - Decoder: a tanh MLP latent → hidden → observation, with a Gaussian likelihood of fixed standard deviation
 *   (missing values are left out), and KL(q ‖ N(0, I)) in closed form: the loss is the negative ELBO per row.
 * - Optional Poisson process for the observation times (section 5.1): log λ(z) from another MLP, and
 *   log p(times) = Σ log λ(z(t_i)) − ∫ λ(z(t)) dt, the integral carried as one extra ODE state.
 * - Optional latent consistency (`consistency` λ > 0): each row's later observations, encoded on their own
 *   with the time origin moved to the first of them (τ), should give the state that the latent flow reaches
 *   at τ from z(t0); the loss adds (λ/2)·‖z(τ) − μ(x[τ:])‖² per row. Without it nothing ties the encoder's
 *   states of trajectories that start at different points of the same curve to the flow between them, and
 *   the flow is only right over the span it is trained on (see docs/latent-ode.md).
 *
 * Gradients are exact for the discretised model (backpropagation through every RK4 stage). Every activation
 * of a pass lives in a {@link Workspace} in feature-major layout (see feature-major.ts), so each layer over
 * the batch is one WebAssembly SIMD matrix product; reparameterisation noise comes from the seeded Rng.
 */
import { luFactor, luSolve } from '../linalg/lu.js';
import type { Rng } from '../random/index.js';
import { Workspace } from '../tensor/workspace.js';
import {
  type Activation,
  type AffineLayer,
  addAffine,
  addGru,
  addMlp,
  addRnn,
  allocRecurrent,
  type Mlp,
  PackedMlp,
  type PackedRecurrent,
  PackedWeights,
  ParameterLayout,
  packRecurrent,
  paddedWidth,
  type RecurrentCell,
  type RnnBuffers,
  recurrentBackward,
  recurrentForward,
  rnnInputRow,
  rnnState,
} from './feature-major.js';
import { batchFromSeries, inputScaleOption, type ObservationBatch } from './latent-ode-batch.js';

/** The recognition network's recurrent cell. */
export type EncoderKind = 'rnn' | 'gru';

export interface LatentOdeOptions {
  readonly obsDim: number;
  readonly latentDim?: number;
  readonly rnnHidden?: number;
  /**
   * The recognition network's cell (default 'rnn': an Elman cell, as in the paper's example). 'gru': a gated
   * recurrent unit, whose gradients stay bounded over long sequences; with 100 observations per row the Elman
   * cell's gradient norm reaches 10⁶–10⁷ times its median now and then, and training swings with it.
   */
  readonly encoder?: EncoderKind;
  readonly odeHidden?: number;
  /** Hidden layers of the dynamics MLP (default 2: latent → 20 → 20 → latent, as in torchdiffeq's example). */
  readonly odeLayers?: number;
  readonly decoderHidden?: number;
  /** Model the observation times with an inhomogeneous Poisson process (default false). */
  readonly poisson?: boolean;
  readonly poissonHidden?: number;
  /** Fixed standard deviation of the Gaussian observation likelihood (default 0.1). */
  readonly observationStd?: number;
  /** Activation of the dynamics MLP (default 'elu', as in torchdiffeq's example; 'tanh' saturates). */
  readonly activation?: Activation;
  /** Largest RK4 step (default 0.25); observation times are read off the dense interpolant. */
  readonly maxStep?: number;
  /** Activation of the decoder's hidden layer (default 'tanh'). */
  readonly decoderActivation?: Activation;
  /** Weight λ of the latent consistency term (default 0: off). */
  readonly consistency?: number;
  /**
   * Range of the consistency split, as fractions of a row's observations (default [0.1, 0.9]): the split
   * observation is drawn uniformly from it.
   */
  readonly consistencySplits?: readonly [number, number];
  /**
   * The later part encoded for the consistency term keeps at least this many of a row's m observations
   * (default 12): the split range's upper end is lowered, row by row, to (m − n)/m (not below its lower
   * end). Short later parts give noisy encodings as targets; with 30 observations per row and the range
   * [0.1, 0.9] a split could leave three.
   */
  readonly consistencyMinLater?: number;
  /**
   * Factors applied to the recognition RNN's inputs: one per observed variable, then one for the time gap
   * (default all 1). Inputs of order one keep the RNN's tanh units out of saturation and its gradients
   * tame; the experiments set them from the data (1/std of each variable, 1/the mean gap).
   */
  readonly encoderInputScale?: readonly number[];
  /**
   * Range of the fraction of a row's observations that the recognition RNN reads in training (default
   * [1, 1]: all of them). Below 1 the encoder reads only the row's first observations (at least one; the
   * fraction is drawn uniformly from the range for every row and step) while the likelihood still covers all
   * of them, so the model is trained to forecast the observations it was not shown. Prediction always
   * encodes every observation.
   */
  readonly encoderPrefix?: readonly [number, number];
  /**
   * Adds a linear map of the latent state to the decoder's output, x = MLP(z) + S·z + c (default false), so
   * that the decoder continues linearly where its hidden units saturate instead of levelling off.
   */
  readonly decoderSkip?: boolean;
  /**
   * Adds a linear map of the latent state to the dynamics, f(z) = MLP(z) + A·z + b (default false), so that
   * the flow continues linearly (rotations, say) where the MLP's units saturate.
   */
  readonly dynamicsSkip?: boolean;
  /**
   * Bias terms in the dynamics MLP and its linear skip (default true). Without them and with `activation`
   * 'relu' the dynamics are positively homogeneous, f(c·z) = c·f(z) for c > 0: which units are active is
   * the same all along a ray from the origin, so the flow keeps the linear law it learned in a direction
   * when a state moves outwards past the states it was trained on.
   */
  readonly dynamicsBias?: boolean;
  /**
   * Positively homogeneous dynamics f(z) = ‖z‖·MLP(z/‖z‖) + A·z (default false; the skip A·z, with
   * `dynamicsSkip`, then has no bias): f(c·z) = c·f(z) for c > 0. The MLP reads only the direction of the
   * state, a point of the unit sphere, so a state that moves outwards past the states the model was trained
   * on asks the MLP nothing new (its direction changes little), and the flow keeps scaling as it did.
   */
  readonly homogeneousDynamics?: boolean;
}

/**
 * The random draws of one loss evaluation: z(t0) noise [rows, latent], consistency splits [rows] (empty when
 * the term is off) and encoder prefixes [rows] (uniform draws; empty when the encoder reads everything).
 */
export interface LatentOdeNoise {
  readonly eps: Float64Array;
  readonly splits: Float64Array;
  readonly prefixes: Float64Array;
}

/** The terms of the last loss evaluation, per row (batch means). */
export interface LatentOdeLoss {
  /** Negative ELBO per row (plus the consistency term when it is on). */
  readonly loss: number;
  readonly logLikelihood: number;
  readonly kl: number;
  /** Poisson log-likelihood of the observation times (0 without `poisson`). */
  readonly timesLogLikelihood: number;
  /** The consistency term (0 when off). */
  readonly consistency: number;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

/** Observations decoded per tile (see {@link TrainPlan.obsWidth}). */
const OBSERVATION_TILE = 1024;

/** Layers of the model as offsets in θ. */
interface Layers {
  readonly encoder: RecurrentCell;
  readonly head: AffineLayer;
  readonly dynamics: Mlp;
  readonly decoder: Mlp;
  readonly intensity: Mlp | null;
  readonly skip: AffineLayer | null;
  readonly dynamicsSkip: AffineLayer | null;
}

/** The model's weights packed into one workspace. */
interface Packed {
  readonly cell: PackedRecurrent;
  readonly head: PackedWeights;
  readonly dynamics: PackedMlp;
  readonly decoder: PackedMlp;
  readonly intensity: PackedMlp | null;
  readonly skip: PackedWeights | null;
  readonly dynamicsSkip: PackedWeights | null;
}

/** Encoder buffers for one batch shape. */
interface EncoderPass {
  readonly rnn: RnnBuffers;
  /** [2·latent, width]: means then log-variances. */
  readonly stats: number;
  readonly gStats: number;
}

/** Buffers of one RK4 solve over `count` steps and G output times. */
interface SolvePass {
  readonly count: number;
  readonly G: number;
  readonly keep: boolean;
  /** count + 1 blocks of (D + 1)·width: the step nodes (last row ones). */
  readonly nodes: number;
  /** s2, s3, s4 of every step when keep (else of one step): blocks of (D + 1)·width. */
  readonly stages: number;
  /** count + 1 blocks of D·width: f at the nodes (the k1 of each step and the slopes of the interpolant). */
  readonly slopes: number;
  readonly k: number;
  readonly acc: number;
  /** Hidden activations per evaluation slot (4·count + 1 slots when keep, else one). */
  readonly dynamicsHidden: number[][];
  /**
   * Homogeneous dynamics only (else empty / −1), per slot: the state's direction u = z/‖z‖ as an MLP input
   * block [(D + 1), width] (last row ones), its norm [width] and the MLP's output m(u) [latent, width]; and
   * two [latent, width] buffers for the backward pass.
   */
  readonly directions: number[];
  readonly norms: number[];
  readonly directionOut: number[];
  readonly gScaled: number;
  readonly gDirection: number;
  readonly intensityHidden: number[][];
  /** log λ per slot, [width] each (Poisson only). */
  readonly logRate: number[];
  /** G blocks of (D + 1)·width: the states at the output times (last row ones, so they can be decoded). */
  readonly ys: number;
  readonly gYs: number;
  readonly gNodes: number;
  readonly gSlopes: number;
  readonly gy: number;
  readonly gk: number[];
  readonly gs: number;
  readonly gRate: number;
}

/** Everything one training pass needs, laid out in its workspace for one batch shape. */
interface TrainPlan {
  readonly rows: number;
  readonly width: number;
  readonly slots: number;
  readonly G: number;
  readonly count: number;
  readonly packed: Packed;
  readonly enc: EncoderPass;
  /** Encoder of the later observations for the consistency term (null when off). */
  readonly sub: EncoderPass | null;
  readonly ode: SolvePass;
  /**
   * The observations are decoded in tiles of at most {@link OBSERVATION_TILE} columns, forward and backward
   * before the next tile, so that a tile's activations stay in cache: `obsWidth` is the tile width and
   * `zObs` [(D + 1), obsWidth] a tile of latent states at observations (last row ones).
   */
  readonly obsWidth: number;
  /**
   * Per observation of the batch (slot by slot, rows within a slot): the offset of its state in `ode.ys`
   * (first latent row), of its gradient in `ode.gYs`, and of its values in the batch's `values`.
   */
  readonly obsState: Int32Array;
  readonly obsGradient: Int32Array;
  readonly obsValue: Int32Array;
  readonly zObs: number;
  readonly decoderHidden: number[];
  readonly xHat: number;
  readonly gXHat: number;
  readonly gZObs: number;
  readonly obsIntensityHidden: number[];
  readonly obsLogRate: number;
  readonly gObsLogRate: number;
}

/** Options of `LatentOde.predict`. */
export interface PredictOptions {
  /**
   * Iterations of `refineInitialStates` applied to the encoder's initial states before decoding; 0 (the
   * default) decodes from the encoder's mean.
   */
  readonly refine?: number;
}

/** Options of `LatentOde.refineInitialStates`. */
export interface RefineOptions {
  /** Levenberg–Marquardt iterations at most (default 10; 0 returns the encoder's mean). */
  readonly iterations?: number;
  /** A row stops once a step lowers its objective by less than this fraction (default 1e-8). */
  readonly tolerance?: number;
}

/** What `LatentOde.refineInitialStates` found. */
export interface RefineResult {
  /** [rows, latentDim] refined initial states. */
  readonly z0: Float64Array;
  /** Iterations run (fewer than asked when every row stopped early). */
  readonly iterations: number;
  /** [rows] objective at the encoder's mean. */
  readonly objectiveBefore: Float64Array;
  /** [rows] objective at the returned states (never above objectiveBefore). */
  readonly objectiveAfter: Float64Array;
}

export class LatentOde {
  readonly obsDim: number;
  readonly latentDim: number;
  readonly poisson: boolean;
  readonly observationStd: number;
  readonly maxStep: number;
  readonly activation: Activation;
  readonly homogeneousDynamics: boolean;
  readonly consistency: number;
  readonly consistencySplits: readonly [number, number];
  readonly consistencyMinLater: number;
  readonly encoderInputScale: readonly number[];
  readonly encoderKind: EncoderKind;
  readonly encoderPrefix: readonly [number, number];
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  private readonly stateDim: number;
  private readonly layers: Layers;
  private readonly trainWs = new Workspace();
  private readonly evalWs = new Workspace();
  private plan: TrainPlan | null = null;

  constructor(options: LatentOdeOptions, rng: Rng) {
    const dims = {
      obsDim: options.obsDim,
      latentDim: options.latentDim ?? 4,
      rnnHidden: options.rnnHidden ?? 25,
      odeHidden: options.odeHidden ?? 20,
      odeLayers: options.odeLayers ?? 2,
      decoderHidden: options.decoderHidden ?? 20,
      poissonHidden: options.poissonHidden ?? 20,
    };
    for (const [name, v] of Object.entries(dims)) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`LatentOde: ${name} must be a positive integer, got ${v}`);
      }
    }
    this.obsDim = dims.obsDim;
    this.latentDim = dims.latentDim;
    this.poisson = options.poisson ?? false;
    this.observationStd = options.observationStd ?? 0.1;
    this.maxStep = options.maxStep ?? 0.25;
    this.activation = options.activation ?? 'elu';
    this.homogeneousDynamics = options.homogeneousDynamics ?? false;
    this.consistency = options.consistency ?? 0;
    this.consistencySplits = options.consistencySplits ?? [0.1, 0.9];
    const [lo, hi] = this.consistencySplits;
    if (!(lo >= 0 && hi <= 1 && lo <= hi)) {
      throw new RangeError(
        `LatentOde: consistencySplits must satisfy 0 <= lo <= hi <= 1, got [${lo}, ${hi}]`,
      );
    }
    this.consistencyMinLater = options.consistencyMinLater ?? 12;
    if (!(Number.isInteger(this.consistencyMinLater) && this.consistencyMinLater >= 1)) {
      throw new RangeError(
        `LatentOde: consistencyMinLater must be an integer >= 1, got ${this.consistencyMinLater}`,
      );
    }
    this.encoderPrefix = options.encoderPrefix ?? [1, 1];
    {
      const [a, b] = this.encoderPrefix;
      if (!(a > 0 && b <= 1 && a <= b)) {
        throw new RangeError(`LatentOde: encoderPrefix must satisfy 0 < lo <= hi <= 1, got [${a}, ${b}]`);
      }
    }
    if (!['tanh', 'elu', 'relu'].includes(this.activation)) {
      throw new RangeError(
        `LatentOde: activation must be 'tanh', 'elu' or 'relu', got '${String(this.activation)}'`,
      );
    }
    if (!(this.observationStd > 0)) {
      throw new RangeError(`LatentOde: observationStd must be > 0, got ${this.observationStd}`);
    }
    if (!(this.maxStep > 0)) throw new RangeError(`LatentOde: maxStep must be > 0, got ${this.maxStep}`);
    if (!(this.consistency >= 0) || !Number.isFinite(this.consistency)) {
      throw new RangeError(`LatentOde: consistency must be a finite number >= 0, got ${this.consistency}`);
    }
    this.encoderKind = options.encoder ?? 'rnn';
    if (this.encoderKind !== 'rnn' && this.encoderKind !== 'gru') {
      throw new RangeError(`LatentOde: encoder must be 'rnn' or 'gru', got '${String(this.encoderKind)}'`);
    }
    this.encoderInputScale = inputScaleOption(
      'LatentOde: encoderInputScale',
      options.encoderInputScale,
      this.obsDim,
    );
    this.stateDim = this.latentDim + (this.poisson ? 1 : 0);
    const layout = new ParameterLayout();
    const encoder =
      this.encoderKind === 'gru'
        ? addGru(layout, this.obsDim + 1, dims.rnnHidden)
        : addRnn(layout, this.obsDim + 1, dims.rnnHidden);
    const head = addAffine(layout, dims.rnnHidden, 2 * this.latentDim);
    const dynamicsBias = options.dynamicsBias ?? true;
    const dynamics = addMlp(
      layout,
      this.latentDim,
      dims.odeHidden,
      this.latentDim,
      this.activation,
      dims.odeLayers,
      dynamicsBias,
    );
    const decoderActivation = options.decoderActivation ?? 'tanh';
    if (!['tanh', 'elu', 'relu'].includes(decoderActivation)) {
      throw new RangeError(
        `LatentOde: decoderActivation must be 'tanh', 'elu' or 'relu', got '${String(decoderActivation)}'`,
      );
    }
    const decoder = addMlp(layout, this.latentDim, dims.decoderHidden, this.obsDim, decoderActivation);
    const intensity = this.poisson ? addMlp(layout, this.latentDim, dims.poissonHidden, 1) : null;
    // Last in θ, so that a model without it keeps the layout it always had.
    const skip = options.decoderSkip === true ? addAffine(layout, this.latentDim, this.obsDim) : null;
    const dynamicsSkip =
      options.dynamicsSkip === true
        ? addAffine(layout, this.latentDim, this.latentDim, dynamicsBias && !this.homogeneousDynamics)
        : null;
    this.layers = { encoder, head, dynamics, decoder, intensity, skip, dynamicsSkip };
    this.parameters = layout.initialise(rng);
    this.gradients = new Float64Array(layout.size);
  }

  // --- Layout -------------------------------------------------------------------------------------------

  private pack(ws: Workspace, width: number, obsWidth: number): Packed {
    const { encoder, head, dynamics, decoder, intensity, skip, dynamicsSkip } = this.layers;
    const K = this.stateDim + 1;
    const cell = packRecurrent(ws, encoder);
    return {
      cell,
      head: PackedWeights.of(ws, head, cell.K),
      dynamics: new PackedMlp(ws, dynamics, K, width),
      decoder: new PackedMlp(ws, decoder, K, obsWidth),
      intensity: intensity === null ? null : new PackedMlp(ws, intensity, K, Math.max(width, obsWidth)),
      skip: skip === null ? null : PackedWeights.of(ws, skip, K),
      dynamicsSkip: dynamicsSkip === null ? null : PackedWeights.of(ws, dynamicsSkip, K),
    };
  }

  private allocEncoder(ws: Workspace, width: number, slots: number): EncoderPass {
    return {
      rnn: allocRecurrent(ws, this.layers.encoder, width, slots),
      stats: ws.alloc(2 * this.latentDim * width),
      gStats: ws.alloc(2 * this.latentDim * width),
    };
  }

  /** A block of `rows` rows of `width` whose last row is ones. */
  private onesBlock(ws: Workspace, rows: number, width: number): number {
    const b = ws.alloc(rows * width);
    ws.heap.fill(1, b + (rows - 1) * width, b + rows * width);
    return b;
  }

  private allocSolve(
    ws: Workspace,
    packed: Packed,
    width: number,
    count: number,
    G: number,
    keep: boolean,
  ): SolvePass {
    const D = this.stateDim;
    const block = (D + 1) * width;
    const nodes = ws.alloc((count + 1) * block);
    const stages = ws.alloc((keep ? 3 * count : 3) * block);
    for (let b = 0; b < count + 1; b++)
      ws.heap.fill(1, nodes + b * block + D * width, nodes + (b + 1) * block);
    for (let b = 0; b < (keep ? 3 * count : 3); b++) {
      ws.heap.fill(1, stages + b * block + D * width, stages + (b + 1) * block);
    }
    const slots = keep ? 4 * count + 1 : 1;
    const dynamicsHidden: number[][] = [];
    const intensityHidden: number[][] = [];
    const logRate: number[] = [];
    const directions: number[] = [];
    const norms: number[] = [];
    const directionOut: number[] = [];
    const L = this.latentDim;
    for (let s = 0; s < slots; s++) {
      dynamicsHidden.push(packed.dynamics.allocHidden(ws, width));
      if (this.homogeneousDynamics) {
        directions.push(ws.alloc(block));
        ws.heap.fill(1, directions[s] + D * width, directions[s] + block);
        norms.push(ws.alloc(width));
        directionOut.push(ws.alloc(L * width));
      }
      if (packed.intensity !== null) {
        intensityHidden.push(packed.intensity.allocHidden(ws, width));
        logRate.push(ws.alloc(width));
      }
    }
    const ys = ws.alloc(G * block);
    for (let g = 0; g < G; g++) ws.heap.fill(1, ys + g * block + D * width, ys + (g + 1) * block);
    const n = D * width;
    return {
      count,
      G,
      keep,
      nodes,
      stages,
      slopes: ws.alloc((count + 1) * n),
      k: ws.alloc(n),
      acc: ws.alloc(n),
      dynamicsHidden,
      directions,
      norms,
      directionOut,
      gScaled: keep && this.homogeneousDynamics ? ws.alloc(L * width) : -1,
      gDirection: keep && this.homogeneousDynamics ? ws.alloc(L * width) : -1,
      intensityHidden,
      logRate,
      ys,
      gYs: keep ? ws.alloc(G * n) : -1,
      gNodes: keep ? ws.alloc((count + 1) * n) : -1,
      gSlopes: keep ? ws.alloc((count + 1) * n) : -1,
      gy: keep ? ws.alloc(n) : -1,
      gk: keep ? [ws.alloc(n), ws.alloc(n), ws.alloc(n), ws.alloc(n)] : [],
      gs: keep ? ws.alloc(n) : -1,
      gRate: keep && packed.intensity !== null ? ws.alloc(width) : -1,
    };
  }

  /** The training layout for `batch`, reused while the batch shape fits. */
  private trainPlan(batch: ObservationBatch): TrainPlan {
    const { rows, slots, grid } = batch;
    const { count } = this.steps(grid);
    const p = this.plan;
    if (p !== null && p.rows === rows && p.slots >= slots && p.G >= grid.length && p.count >= count) return p;
    const ws = this.trainWs;
    ws.reset();
    const width = paddedWidth(rows);
    const obsWidth = Math.min(paddedWidth(rows * slots), OBSERVATION_TILE);
    const G = grid.length;
    const packed = this.pack(ws, width, obsWidth);
    const D = this.stateDim;
    const plan: TrainPlan = {
      rows,
      width,
      slots,
      G,
      count,
      packed,
      enc: this.allocEncoder(ws, width, slots),
      sub: this.consistency > 0 ? this.allocEncoder(ws, width, slots) : null,
      ode: this.allocSolve(ws, packed, width, count, G, true),
      obsWidth,
      obsState: new Int32Array(rows * slots),
      obsGradient: new Int32Array(rows * slots),
      obsValue: new Int32Array(rows * slots),
      zObs: this.onesBlock(ws, D + 1, obsWidth),
      decoderHidden: packed.decoder.allocHidden(ws, obsWidth),
      xHat: ws.alloc(this.obsDim * obsWidth),
      gXHat: ws.alloc(this.obsDim * obsWidth),
      gZObs: ws.alloc(this.latentDim * obsWidth),
      obsIntensityHidden: packed.intensity === null ? [] : packed.intensity.allocHidden(ws, obsWidth),
      obsLogRate: ws.alloc(obsWidth),
      gObsLogRate: ws.alloc(obsWidth),
    };
    this.plan = plan;
    return plan;
  }

  // --- Encoder ------------------------------------------------------------------------------------------

  /**
   * Runs the recognition RNN backwards in time over each row's observations (step s reads slot
   * slots − 1 − s) and the head; leaves the mean and log-variance in `enc.stats`. Returns the idle columns
   * of every step (rows with fewer observations wait at the start, so their state is still 0 when they begin).
   */
  private encode(
    ws: Workspace,
    packed: Packed,
    enc: EncoderPass,
    batch: ObservationBatch,
  ): Int32Array[] | null {
    const { rows, slots, obsDim, grid, index, values } = batch;
    const rnn = enc.rnn;
    const width = rnn.width;
    const h = ws.heap;
    const idle: number[][] = [];
    let anyIdle = false;
    const scale = this.encoderInputScale;
    for (let s = 0; s < slots; s++) {
      const list: number[] = [];
      const k = slots - 1 - s;
      const row = rnnInputRow(rnn, s, 0);
      const gapRow = row + obsDim * width;
      const gapScale = scale[obsDim];
      for (let r = 0; r < rows; r++) {
        const g = index[r * slots + k];
        if (g < 0) {
          list.push(r);
          for (let d = 0; d <= obsDim; d++) h[row + d * width + r] = 0;
          continue;
        }
        const at = (r * slots + k) * obsDim;
        for (let d = 0; d < obsDim; d++) {
          const v = values[at + d];
          h[row + d * width + r] = Number.isNaN(v) ? 0 : v * scale[d]; // a missing value reads as 0
        }
        const previous = k === 0 ? grid[0] : grid[index[r * slots + k - 1]];
        h[gapRow + r] = (grid[g] - previous) * gapScale;
      }
      if (list.length > 0) anyIdle = true;
      idle.push(list);
    }
    const inactive = anyIdle ? idle.map((l) => Int32Array.from(l)) : null;
    recurrentForward(ws, packed.cell, rnn, inactive);
    packed.head.forward(ws, rnnState(rnn, slots), width, enc.stats);
    return inactive;
  }

  private encodeBackward(
    ws: Workspace,
    packed: Packed,
    enc: EncoderPass,
    inactive: Int32Array[] | null,
  ): void {
    const rnn = enc.rnn;
    packed.head.backward(ws, rnnState(rnn, rnn.steps), rnn.width, enc.gStats, rnn.gA, rnn.hidden, false);
    recurrentBackward(ws, packed.cell, rnn, inactive, null);
  }

  // --- Dynamics and the RK4 solve ----------------------------------------------------------------------

  /** out [D, width] = f(state) for a state block [(D + 1), width]; activations kept in evaluation slot `slot`. */
  private dynamics(
    ws: Workspace,
    packed: Packed,
    ode: SolvePass,
    width: number,
    y: number,
    out: number,
    slot: number,
  ): void {
    if (this.homogeneousDynamics) {
      // f = ‖y‖·m(y/‖y‖): the MLP reads the direction only.
      const L = this.latentDim;
      const rho = ode.norms[slot];
      const u = ode.directions[slot];
      ws.columnNorms(L, width, y, rho);
      ws.scaleColumns(L, width, y, rho, u, true);
      packed.dynamics.forward(ws, u, width, ode.dynamicsHidden[slot], ode.directionOut[slot]);
      ws.scaleColumns(L, width, ode.directionOut[slot], rho, out);
    } else {
      packed.dynamics.forward(ws, y, width, ode.dynamicsHidden[slot], out);
    }
    packed.dynamicsSkip?.forward(ws, y, width, out, true);
    if (packed.intensity === null) return;
    const logRate = ode.logRate[slot];
    packed.intensity.forward(ws, y, width, ode.intensityHidden[slot], logRate);
    const h = ws.heap;
    const rate = out + this.latentDim * width;
    for (let r = 0; r < width; r++) h[rate + r] = Math.exp(h[logRate + r]);
  }

  /** gIn [D, width] (+)= (∂f/∂y)ᵀ gOut at evaluation slot `slot` (input block y), and the weight gradients. */
  private dynamicsBackward(
    ws: Workspace,
    packed: Packed,
    ode: SolvePass,
    width: number,
    y: number,
    gOut: number,
    gIn: number,
    slot: number,
    accumulate: boolean,
  ): void {
    const L = this.latentDim;
    if (this.homogeneousDynamics) {
      const rho = ode.norms[slot];
      const u = ode.directions[slot];
      ws.scaleColumns(L, width, gOut, rho, ode.gScaled);
      packed.dynamics.backward(ws, u, width, ode.dynamicsHidden[slot], ode.gScaled, ode.gDirection, L, false);
      ws.homogeneousGrad(L, width, gOut, ode.directionOut[slot], u, rho, ode.gDirection, gIn, accumulate);
    } else {
      packed.dynamics.backward(ws, y, width, ode.dynamicsHidden[slot], gOut, gIn, L, accumulate);
    }
    packed.dynamicsSkip?.backward(ws, y, width, gOut, gIn, L, true);
    if (packed.intensity === null) return;
    const h = ws.heap;
    // The Λ row of the state feeds nothing, so its gradient through f is zero.
    if (!accumulate) h.fill(0, gIn + L * width, gIn + (L + 1) * width);
    const logRate = ode.logRate[slot];
    const gRate = ode.gRate;
    const g = gOut + L * width;
    for (let r = 0; r < width; r++) h[gRate + r] = h[g + r] * Math.exp(h[logRate + r]);
    packed.intensity.backward(ws, y, width, ode.intensityHidden[slot], gRate, gIn, L, true);
  }

  /** The uniform RK4 step grid covering [grid[0], grid[G − 1]] with steps no longer than `maxStep`. */
  private steps(grid: Float64Array): { count: number; h: number } {
    const span = grid[grid.length - 1] - grid[0];
    const count = span > 0 ? Math.max(1, Math.ceil(span / this.maxStep - 1e-9)) : 0;
    return { count, h: count > 0 ? span / count : 0 };
  }

  /**
   * Where grid time g falls among the RK4 nodes: node index n and the cubic Hermite weights of y_n, h·f_n,
   * y_{n+1}, h·f_{n+1}.
   */
  private hermite(
    grid: Float64Array,
    g: number,
    count: number,
    h: number,
  ): [number, number, number, number, number] {
    if (count === 0) return [0, 1, 0, 0, 0];
    const x = (grid[g] - grid[0]) / h;
    const n = Math.min(count - 1, Math.max(0, Math.floor(x)));
    const u = x - n;
    const u2 = u * u;
    const u3 = u2 * u;
    return [n, 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2];
  }

  /**
   * Classical RK4 from the state in node block 0 on a uniform step grid, with the states at the grid times
   * read off the cubic Hermite interpolant through the nodes' values and slopes (fourth order, like the
   * steps) into `ode.ys`. The grid times therefore never force extra steps: the cost is set by the time span
   * and `maxStep`, not by how many distinct observation times the batch has. With `keep`, every stage input
   * and activation stays for {@link solveBackward}.
   */
  private solve(ws: Workspace, packed: Packed, ode: SolvePass, width: number, grid: Float64Array): void {
    const D = this.stateDim;
    const n = D * width;
    const block = (D + 1) * width;
    const { count, h } = this.steps(grid);
    const { nodes, stages, slopes, k, acc, keep } = ode;
    for (let step = 0; step < count; step++) {
      const base = keep ? stages + 3 * step * block : stages;
      const y = nodes + step * block;
      const [s2, s3, s4] = [base, base + block, base + 2 * block];
      const k1 = slopes + step * n;
      const slot = keep ? 4 * step : 0;
      this.dynamics(ws, packed, ode, width, y, k1, slot);
      ws.addScaled(n, y, 0.5 * h, k1, s2);
      this.dynamics(ws, packed, ode, width, s2, k, keep ? slot + 1 : 0);
      ws.addScaled(n, k1, 2, k, acc);
      ws.addScaled(n, y, 0.5 * h, k, s3);
      this.dynamics(ws, packed, ode, width, s3, k, keep ? slot + 2 : 0);
      ws.axpy(n, 2, k, acc);
      ws.addScaled(n, y, h, k, s4);
      this.dynamics(ws, packed, ode, width, s4, k, keep ? slot + 3 : 0);
      ws.axpy(n, 1, k, acc);
      ws.addScaled(n, y, h / 6, acc, nodes + (step + 1) * block);
    }
    this.dynamics(ws, packed, ode, width, nodes + count * block, slopes + count * n, keep ? 4 * count : 0);
    for (let g = 0; g < grid.length; g++) {
      const [m, w0, w1, w2, w3] = this.hermite(grid, g, count, h);
      const out = ode.ys + g * block;
      ws.scale(n, w0, nodes + m * block, out);
      if (count === 0) continue;
      ws.axpy(n, w1 * h, slopes + m * n, out);
      ws.axpy(n, w2, nodes + (m + 1) * block, out);
      ws.axpy(n, w3 * h, slopes + (m + 1) * n, out);
    }
  }

  /** Backward of {@link solve} (called right after it with keep): `ode.gYs` → `ode.gy` = dL/dy0. */
  private solveBackward(
    ws: Workspace,
    packed: Packed,
    ode: SolvePass,
    width: number,
    grid: Float64Array,
  ): void {
    const D = this.stateDim;
    const n = D * width;
    const block = (D + 1) * width;
    const { count, h } = this.steps(grid);
    const { nodes, stages, gNodes, gSlopes, gy, gk, gs } = ode;
    const heap = ws.heap;
    heap.fill(0, gNodes, gNodes + (count + 1) * n);
    heap.fill(0, gSlopes, gSlopes + (count + 1) * n);
    for (let g = 0; g < grid.length; g++) {
      const [m, w0, w1, w2, w3] = this.hermite(grid, g, count, h);
      const gOut = ode.gYs + g * n;
      ws.axpy(n, w0, gOut, gNodes + m * n);
      if (count === 0) continue;
      ws.axpy(n, w1 * h, gOut, gSlopes + m * n);
      ws.axpy(n, w2, gOut, gNodes + (m + 1) * n);
      ws.axpy(n, w3 * h, gOut, gSlopes + (m + 1) * n);
    }
    ws.scale(n, 1, gNodes + count * n, gy);
    this.dynamicsBackward(
      ws,
      packed,
      ode,
      width,
      nodes + count * block,
      gSlopes + count * n,
      gy,
      4 * count,
      true,
    );
    // Stage j's input is y + c_j·h·k_{j−1}.
    const weights = [0, 0.5 * h, 0.5 * h, h];
    for (let step = count - 1; step >= 0; step--) {
      const base = stages + 3 * step * block;
      const inputs = [nodes + step * block, base, base + block, base + 2 * block];
      // k1 of a step is also the slope of the interpolant at its node.
      ws.addScaled(n, gSlopes + step * n, h / 6, gy, gk[0]);
      ws.scale(n, h / 3, gy, gk[1]);
      ws.scale(n, h / 3, gy, gk[2]);
      ws.scale(n, h / 6, gy, gk[3]);
      for (let j = 3; j >= 0; j--) {
        this.dynamicsBackward(ws, packed, ode, width, inputs[j], gk[j], gs, 4 * step + j, false);
        ws.axpy(n, 1, gs, gy);
        if (j > 0) ws.axpy(n, weights[j], gs, gk[j - 1]);
      }
      ws.axpy(n, 1, gNodes + step * n, gy);
    }
  }

  // --- Loss ---------------------------------------------------------------------------------------------

  /**
   * Negative ELBO per row for `batch` with one reparameterised sample of z(t0) drawn from `rng`; sets
   * `gradients` to its gradient (overwriting). The noise is drawn row by row (z(t0) noise for every row,
   * then, with the consistency term, one uniform per row for its split), so the result does not depend on
   * how the rows are divided between threads. `consistencyWeight` (at most the `consistency` option, which it
   * defaults to) weights the consistency term for this evaluation, so that training can ramp it up.
   */
  lossAndGradient(
    batch: ObservationBatch,
    rng: Rng,
    consistencyWeight: number = this.consistency,
  ): LatentOdeLoss {
    const noise = this.drawNoise(batch.rows, rng);
    return this.lossAndGradientWith(batch, noise, batch.rows, consistencyWeight);
  }

  /** The random draws of one loss evaluation for `rows` rows. */
  drawNoise(rows: number, rng: Rng): LatentOdeNoise {
    const eps = new Float64Array(rows * this.latentDim);
    for (let i = 0; i < eps.length; i++) eps[i] = rng.normal();
    const splits = new Float64Array(this.consistency > 0 ? rows : 0);
    for (let i = 0; i < splits.length; i++) splits[i] = rng.uniform();
    const prefixes = new Float64Array(this.encoderPrefix[0] < 1 ? rows : 0);
    for (let i = 0; i < prefixes.length; i++) prefixes[i] = rng.uniform();
    return { eps, splits, prefixes };
  }

  /**
   * The loss terms of `observed` with the given noise, summed over its rows and divided by `normalizer` (the
   * rows of the whole batch this part belongs to); sets `gradients` to their gradient.
   */
  lossAndGradientWith(
    observed: ObservationBatch,
    noise: LatentOdeNoise,
    normalizer: number,
    consistencyWeight: number = this.consistency,
  ): LatentOdeLoss {
    if (!(consistencyWeight >= 0 && consistencyWeight <= this.consistency)) {
      throw new RangeError(
        `LatentOde: consistencyWeight must be in [0, ${this.consistency}] (the model's consistency option), got ${consistencyWeight}`,
      );
    }
    this.gradients.fill(0);
    const plan = this.trainPlan(observed);
    // A batch with fewer slots than the layout waits through the extra (unused) slots.
    const batch = padSlots(observed, plan.slots);
    const { slots, grid, index } = batch;
    const rows = batch.rows;
    const L = this.latentDim;
    const D = this.stateDim;
    const ws = this.trainWs;
    const { packed, enc, ode, width } = plan;
    packed.cell.pack(ws, this.parameters);
    packed.head.pack(ws, this.parameters);
    packed.dynamics.pack(ws, this.parameters);
    packed.decoder.pack(ws, this.parameters);
    packed.intensity?.pack(ws, this.parameters);
    packed.skip?.pack(ws, this.parameters);
    packed.dynamicsSkip?.pack(ws, this.parameters);
    const shown = noise.prefixes.length === 0 ? batch : this.prefixBatch(batch, noise.prefixes);
    const inactive = this.encode(ws, packed, enc, shown);
    const h = ws.heap;
    // z0 = m + exp(lv/2)·ε into node block 0 (the Λ row of a Poisson state starts at 0).
    const eps = noise.eps;
    const y0 = ode.nodes;
    h.fill(0, y0, y0 + D * width);
    let kl = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L; j++) {
        const m = h[enc.stats + j * width + r];
        const lv = h[enc.stats + (L + j) * width + r];
        h[y0 + j * width + r] = m + Math.exp(0.5 * lv) * eps[r * L + j];
        kl += 0.5 * (m * m + Math.exp(lv) - 1 - lv);
      }
    }
    this.solve(ws, packed, ode, width, grid);
    // Each tile of the observations is gathered, decoded, scored and sent back.
    const { obsState, obsGradient, obsValue } = plan;
    const stateBlock = (D + 1) * width;
    let count = 0;
    // Slot by slot, so that neighbouring observations read neighbouring columns of a block of states.
    for (let k = 0; k < slots; k++) {
      for (let r = 0; r < rows; r++) {
        const g = index[r * slots + k];
        if (g < 0) continue;
        obsState[count] = ode.ys + g * stateBlock + r;
        obsGradient[count] = ode.gYs + g * D * width + r;
        obsValue[count] = (r * slots + k) * batch.obsDim;
        count++;
      }
    }
    const n = D * width;
    const gYs = ode.gYs;
    h.fill(0, gYs, gYs + grid.length * n);
    let logLik = 0;
    let timesLogLik = 0;
    for (let first = 0; first < count; first += plan.obsWidth) {
      const tile = Math.min(plan.obsWidth, count - first);
      const terms = this.observationTile(ws, plan, batch, first, tile, normalizer);
      logLik += terms.logLik;
      timesLogLik += terms.timesLogLik;
    }
    if (packed.intensity !== null) {
      // The compensator −Λ(window end) of the Poisson likelihood.
      for (let r = 0; r < rows; r++) {
        const at = batch.windowEnd[r] * stateBlock + L * width + r;
        timesLogLik -= h[ode.ys + at];
        h[gYs + batch.windowEnd[r] * n + L * width + r] += 1 / normalizer;
      }
    }
    const consistency =
      plan.sub === null || consistencyWeight === 0
        ? 0
        : this.consistencyTerm(ws, plan, batch, noise.splits, normalizer, consistencyWeight);
    this.solveBackward(ws, packed, ode, width, grid);
    // Reparameterisation z0 = m + exp(lv/2)·ε and the closed-form KL to N(0, I).
    const gy = ode.gy;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L; j++) {
        const m = h[enc.stats + j * width + r];
        const lv = h[enc.stats + (L + j) * width + r];
        const g = h[gy + j * width + r];
        h[enc.gStats + j * width + r] = g + m / normalizer;
        h[enc.gStats + (L + j) * width + r] =
          g * eps[r * L + j] * 0.5 * Math.exp(0.5 * lv) + (0.5 * (Math.exp(lv) - 1)) / normalizer;
      }
    }
    this.encodeBackward(ws, packed, enc, inactive);
    packed.cell.unpack(ws, this.gradients);
    packed.head.unpack(ws, this.gradients);
    packed.dynamics.unpack(ws, this.gradients);
    packed.decoder.unpack(ws, this.gradients);
    packed.intensity?.unpack(ws, this.gradients);
    packed.skip?.unpack(ws, this.gradients);
    packed.dynamicsSkip?.unpack(ws, this.gradients);
    const loss = (-logLik - timesLogLik + kl) / normalizer + consistency;
    return {
      loss,
      logLikelihood: logLik / normalizer,
      kl: kl / normalizer,
      timesLogLikelihood: timesLogLik / normalizer,
      consistency,
    };
  }

  /**
   * Observations first … first + tile − 1 (in the order of `plan.obsState`): gathers their latent states from `ode.ys`,
   * decodes them, adds their Gaussian log-likelihood (and the Poisson log-intensity), backpropagates through
   * the decoder (weight gradients accumulate) and adds the gradients at the states into `ode.gYs`.
   */
  private observationTile(
    ws: Workspace,
    plan: TrainPlan,
    batch: ObservationBatch,
    first: number,
    tile: number,
    normalizer: number,
  ): { logLik: number; timesLogLik: number } {
    const { obsDim, values } = batch;
    const { packed, width, obsState, obsGradient, obsValue } = plan;
    const L = this.latentDim;
    const D = this.stateDim;
    const h = ws.heap;
    const ow = plan.obsWidth;
    for (let j = 0; j < D; j++) {
      const row = plan.zObs + j * ow;
      const offset = j * width;
      for (let c = 0; c < tile; c++) h[row + c] = h[obsState[first + c] + offset];
      // A last, partial tile: the columns past it get zero states and (below) zero gradients, so they add
      // nothing to the weight gradients.
      h.fill(0, row + tile, row + ow);
    }
    packed.decoder.forward(ws, plan.zObs, ow, plan.decoderHidden, plan.xHat);
    packed.skip?.forward(ws, plan.zObs, ow, plan.xHat, true);
    const variance = this.observationStd * this.observationStd;
    const logNorm = Math.log(variance) + LOG_TWO_PI;
    const gradScale = -1 / (variance * normalizer);
    h.fill(0, plan.gXHat, plan.gXHat + obsDim * ow);
    // Σ −½(diff²/σ² + log 2πσ²) over the values present, as a sum of squares and a count.
    let squares = 0;
    let present = 0;
    for (let d = 0; d < obsDim; d++) {
      const xHat = plan.xHat + d * ow;
      const gXHat = plan.gXHat + d * ow;
      for (let c = 0; c < tile; c++) {
        const x = values[obsValue[first + c] + d];
        if (Number.isNaN(x)) continue; // a missing value
        const diff = x - h[xHat + c];
        squares += diff * diff;
        present++;
        h[gXHat + c] = gradScale * diff;
      }
    }
    const logLik = -0.5 * (squares / variance + present * logNorm);
    packed.decoder.backward(ws, plan.zObs, ow, plan.decoderHidden, plan.gXHat, plan.gZObs, L, false);
    packed.skip?.backward(ws, plan.zObs, ow, plan.gXHat, plan.gZObs, L, true);
    let timesLogLik = 0;
    if (packed.intensity !== null) {
      packed.intensity.forward(ws, plan.zObs, ow, plan.obsIntensityHidden, plan.obsLogRate);
      h.fill(0, plan.gObsLogRate, plan.gObsLogRate + ow);
      for (let c = 0; c < tile; c++) {
        timesLogLik += h[plan.obsLogRate + c];
        h[plan.gObsLogRate + c] = -1 / normalizer;
      }
      packed.intensity.backward(
        ws,
        plan.zObs,
        ow,
        plan.obsIntensityHidden,
        plan.gObsLogRate,
        plan.gZObs,
        L,
        true,
      );
    }
    for (let j = 0; j < L; j++) {
      const row = plan.gZObs + j * ow;
      const offset = j * width;
      for (let c = 0; c < tile; c++) h[obsGradient[first + c] + offset] += h[row + c];
    }
    return { logLik, timesLogLik };
  }

  /** `batch` with each row cut to its first observations, by the fractions `encoderPrefix` and `draws` give. */
  private prefixBatch(batch: ObservationBatch, draws: Float64Array): ObservationBatch {
    const { rows, slots } = batch;
    const [lo, hi] = this.encoderPrefix;
    const index = batch.index.slice();
    for (let r = 0; r < rows; r++) {
      let m = 0;
      while (m < slots && index[r * slots + m] >= 0) m++;
      const keep = Math.max(1, Math.ceil(m * (lo + (hi - lo) * draws[r])));
      for (let k = keep; k < m; k++) index[r * slots + k] = -1;
    }
    return { ...batch, index };
  }

  /**
   * The consistency term: each row with at least four observations is split at a random observation k
   * (by default between 10% and 90% of them); its observations from k on, with times measured from
   * t_k, are encoded alone, and (λ/2)·‖z(t_k) − μ‖² is added per row. The flow side's gradient goes into
   * `gYs` (before the solve's backward pass), the encoder side's through a second encoder backward pass.
   */
  private consistencyTerm(
    ws: Workspace,
    plan: TrainPlan,
    batch: ObservationBatch,
    splits: Float64Array,
    normalizer: number,
    lambda: number,
  ): number {
    const { rows, slots, obsDim, grid, index, values } = batch;
    const L = this.latentDim;
    const D = this.stateDim;
    const sub = plan.sub as EncoderPass;
    const width = plan.width;
    const split = new Int32Array(rows).fill(-1);
    const series: { times: Float64Array; values: Float64Array }[] = [];
    for (let r = 0; r < rows; r++) {
      let m = 0;
      while (m < slots && index[r * slots + m] >= 0) m++;
      const [lo, top] = this.consistencySplits;
      const hi = m > 0 ? Math.max(lo, Math.min(top, (m - this.consistencyMinLater) / m)) : top;
      const k = m >= 4 ? Math.min(m - 1, Math.max(1, Math.floor(m * (lo + (hi - lo) * splits[r])))) : -1;
      split[r] = k;
      const len = k < 0 ? 0 : m - k;
      const t = new Float64Array(len);
      const v = new Float64Array(len * obsDim);
      if (k >= 0) {
        const tau = grid[index[r * slots + k]];
        for (let i = 0; i < len; i++) {
          t[i] = grid[index[r * slots + k + i]] - tau;
          for (let d = 0; d < obsDim; d++) v[i * obsDim + d] = values[(r * slots + k + i) * obsDim + d];
        }
      }
      series.push({ times: t, values: v });
    }
    const later = batchFromSeries(series, obsDim);
    // The sub-batch has at most `slots` slots; pad its schedule to the planned encoder's length.
    const padded = padSlots(later, slots);
    const inactive = this.encode(ws, plan.packed, sub, padded);
    const h = ws.heap;
    h.fill(0, sub.gStats, sub.gStats + 2 * L * width);
    const block = (D + 1) * width;
    const n = D * width;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const k = split[r];
      if (k < 0) continue;
      const g = index[r * slots + k];
      for (let j = 0; j < L; j++) {
        const diff = h[plan.ode.ys + g * block + j * width + r] - h[sub.stats + j * width + r];
        total += 0.5 * lambda * diff * diff;
        h[plan.ode.gYs + g * n + j * width + r] += (lambda * diff) / normalizer;
        h[sub.gStats + j * width + r] = (-lambda * diff) / normalizer;
      }
    }
    this.encodeBackward(ws, plan.packed, sub, inactive);
    return total / normalizer;
  }

  // --- Prediction ---------------------------------------------------------------------------------------

  /**
   * Decodes a trajectory for every row of `batch` at the times of `grid` (which must start at the batch's t0):
   * returns [rows, grid.length, obsDim]. The initial latent state is the mean of q(z(t0)) from the encoder, or
   * with `refine` > 0 that mean improved by `refineInitialStates` (at most `refine` iterations). Used for
   * reconstruction and extrapolation.
   */
  predict(batch: ObservationBatch, grid: Float64Array, options: PredictOptions = {}): Float64Array {
    const refine = options.refine ?? 0;
    if (!(Number.isInteger(refine) && refine >= 0)) {
      throw new RangeError(`LatentOde.predict: refine must be an integer >= 0, got ${refine}`);
    }
    const z0 =
      refine > 0 ? this.refineInitialStates(batch, { iterations: refine }).z0 : this.encodeMean(batch);
    return this.decode(z0, grid);
  }

  /** The mean of q(z(t0)) for every row of `batch`: [rows, latentDim]. */
  encodeMean(batch: ObservationBatch): Float64Array {
    const { rows } = batch;
    const L = this.latentDim;
    const ws = this.evalWs;
    ws.reset();
    const width = paddedWidth(rows);
    const packed = this.pack(ws, width, width);
    const enc = this.allocEncoder(ws, width, batch.slots);
    packed.cell.pack(ws, this.parameters);
    packed.head.pack(ws, this.parameters);
    this.encode(ws, packed, enc, batch);
    const h = ws.heap;
    const z0 = new Float64Array(rows * L);
    for (let j = 0; j < L; j++) {
      for (let r = 0; r < rows; r++) z0[r * L + j] = h[enc.stats + j * width + r];
    }
    return z0;
  }

  /**
   * Solves the latent ODE from the initial states `z0` ([rows, latentDim]) over `grid` (grid[0] is their
   * time) and decodes every state: returns [rows, grid.length, obsDim].
   */
  decode(z0: Float64Array, grid: Float64Array): Float64Array {
    const L = this.latentDim;
    const D = this.stateDim;
    if (z0.length % L !== 0) {
      throw new RangeError(
        `LatentOde.decode: z0 has ${z0.length} values, not a multiple of the latent dimension ${L}`,
      );
    }
    if (grid.length < 1) throw new RangeError('LatentOde.decode: grid is empty');
    const rows = z0.length / L;
    const obsDim = this.obsDim;
    const ws = this.evalWs;
    ws.reset();
    const width = paddedWidth(rows);
    const G = grid.length;
    const packed = this.pack(ws, width, width);
    const { count } = this.steps(grid);
    const ode = this.allocSolve(ws, packed, width, count, G, false);
    const hidden = packed.decoder.allocHidden(ws, width);
    const xs = ws.alloc(obsDim * width);
    packed.dynamics.pack(ws, this.parameters);
    packed.decoder.pack(ws, this.parameters);
    packed.intensity?.pack(ws, this.parameters);
    packed.skip?.pack(ws, this.parameters);
    packed.dynamicsSkip?.pack(ws, this.parameters);
    const h = ws.heap;
    h.fill(0, ode.nodes, ode.nodes + D * width);
    for (let j = 0; j < L; j++) {
      for (let r = 0; r < rows; r++) h[ode.nodes + j * width + r] = z0[r * L + j];
    }
    this.solve(ws, packed, ode, width, grid);
    const out = new Float64Array(rows * G * obsDim);
    const block = (D + 1) * width;
    for (let g = 0; g < G; g++) {
      packed.decoder.forward(ws, ode.ys + g * block, width, hidden, xs);
      packed.skip?.forward(ws, ode.ys + g * block, width, xs, true);
      for (let r = 0; r < rows; r++) {
        for (let d = 0; d < obsDim; d++) out[(r * G + g) * obsDim + d] = h[xs + d * width + r];
      }
    }
    return out;
  }

  /**
   * Improves the encoder's initial states for the rows of `batch`: each row's z(t0) is moved, from the mean
   * of q(z(t0)), to a minimiser of its negative log joint density
   *
   *     ½ Σ_observations ‖(x − decode(z(t)))/observationStd‖² + ½ ‖z(t0)‖²
   *
   * (Gaussian likelihood of the observed values, missing ones left out, and the N(0, I) prior; the
   * Poisson term of the observation times is not included). The encoder is amortised: one network for all
   * rows, so its mean is close to, not at, this maximum a posteriori state, and on the spirals the gap costs
   * more in extrapolation than anything else (see docs/latent-ode.md). Levenberg–Marquardt, row by row but
   * batched: each iteration solves once for the trial states and `latentDim` times for a forward-difference
   * Jacobian. A row stops when a step lowers its objective by less than `tolerance` relatively or its damping
   * exceeds 1e10; a step that raises the objective is never taken.
   */
  refineInitialStates(batch: ObservationBatch, options: RefineOptions = {}): RefineResult {
    const iterations = options.iterations ?? 10;
    const tolerance = options.tolerance ?? 1e-8;
    if (!(Number.isInteger(iterations) && iterations >= 0)) {
      throw new RangeError(
        `LatentOde.refineInitialStates: iterations must be an integer >= 0, got ${iterations}`,
      );
    }
    if (!(tolerance >= 0)) {
      throw new RangeError(`LatentOde.refineInitialStates: tolerance must be >= 0, got ${tolerance}`);
    }
    const { rows, slots, obsDim, grid, index, values } = batch;
    const L = this.latentDim;
    const G = grid.length;
    const z0 = this.encodeMean(batch);
    const M = slots * obsDim + L; // residuals per row: observations (NaN-masked) then the prior
    const inv = 1 / this.observationStd;
    const residuals = (z: Float64Array, out: Float64Array): void => {
      const x = this.decode(z, grid);
      for (let r = 0; r < rows; r++) {
        const o = r * M;
        for (let k = 0; k < slots; k++) {
          const g = index[r * slots + k];
          for (let d = 0; d < obsDim; d++) {
            const v = g < 0 ? Number.NaN : values[(r * slots + k) * obsDim + d];
            out[o + k * obsDim + d] = Number.isNaN(v) ? 0 : (x[(r * G + g) * obsDim + d] - v) * inv;
          }
        }
        for (let j = 0; j < L; j++) out[o + slots * obsDim + j] = z[r * L + j];
      }
    };
    const objective = (res: Float64Array, r: number): number => {
      let s = 0;
      for (let i = r * M; i < (r + 1) * M; i++) s += res[i] * res[i];
      return 0.5 * s;
    };
    const current = new Float64Array(rows * M);
    residuals(z0, current);
    const before = new Float64Array(rows);
    for (let r = 0; r < rows; r++) before[r] = objective(current, r);
    const after = before.slice();
    const damping = new Float64Array(rows).fill(1e-3);
    const active = new Uint8Array(rows).fill(1);
    let activeCount = rows;
    const jacobian = new Float64Array(L * rows * M);
    const perturbed = new Float64Array(rows * M);
    const steps = new Float64Array(rows);
    const trial = new Float64Array(rows * L);
    const trialResiduals = new Float64Array(rows * M);
    const A = new Float64Array(L * L);
    const b = new Float64Array(L);
    const pivots = new Int32Array(L);
    let done = 0;
    while (done < iterations && activeCount > 0) {
      done++;
      for (let j = 0; j < L; j++) {
        trial.set(z0);
        for (let r = 0; r < rows; r++) {
          steps[r] = 1e-7 * Math.max(1, Math.abs(z0[r * L + j]));
          trial[r * L + j] += steps[r];
        }
        residuals(trial, perturbed);
        const col = j * rows * M;
        for (let r = 0; r < rows; r++) {
          const invStep = 1 / steps[r];
          for (let i = r * M; i < (r + 1) * M; i++) {
            jacobian[col + i] = (perturbed[i] - current[i]) * invStep;
          }
        }
      }
      trial.set(z0);
      for (let r = 0; r < rows; r++) {
        if (active[r] === 0) continue;
        // (JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀ res
        for (let p = 0; p < L; p++) {
          let g = 0;
          const cp = p * rows * M;
          for (let i = r * M; i < (r + 1) * M; i++) g += jacobian[cp + i] * current[i];
          b[p] = -g;
          for (let q = 0; q <= p; q++) {
            const cq = q * rows * M;
            let s = 0;
            for (let i = r * M; i < (r + 1) * M; i++) s += jacobian[cp + i] * jacobian[cq + i];
            A[p * L + q] = s;
            A[q * L + p] = s;
          }
        }
        for (let p = 0; p < L; p++) A[p * L + p] *= 1 + damping[r];
        if (luFactor(A, L, pivots) < 0) {
          luSolve(A, L, pivots, b);
          for (let p = 0; p < L; p++) trial[r * L + p] += b[p];
        }
      }
      residuals(trial, trialResiduals);
      for (let r = 0; r < rows; r++) {
        if (active[r] === 0) continue;
        const value = objective(trialResiduals, r);
        if (value < after[r]) {
          const decrease = after[r] - value;
          for (let p = 0; p < L; p++) z0[r * L + p] = trial[r * L + p];
          current.set(trialResiduals.subarray(r * M, (r + 1) * M), r * M);
          after[r] = value;
          damping[r] = Math.max(1e-9, damping[r] / 3);
          if (decrease <= tolerance * value) active[r] = 0;
        } else {
          damping[r] *= 4;
          if (damping[r] > 1e10) active[r] = 0;
        }
        if (active[r] === 0) activeCount--;
      }
    }
    return { z0, iterations: done, objectiveBefore: before, objectiveAfter: after };
  }
}

/** `batch` with its slots padded to `slots` (extra slots unused). */
function padSlots(batch: ObservationBatch, slots: number): ObservationBatch {
  if (batch.slots === slots) return batch;
  const { rows, obsDim } = batch;
  const index = new Int32Array(rows * slots).fill(-1);
  const values = new Float64Array(rows * slots * obsDim).fill(Number.NaN);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < batch.slots; k++) {
      index[r * slots + k] = batch.index[r * batch.slots + k];
      for (let d = 0; d < obsDim; d++)
        values[(r * slots + k) * obsDim + d] = batch.values[(r * batch.slots + k) * obsDim + d];
    }
  }
  return { ...batch, slots, index, values };
}
