/**
 * The latent ODE of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS 2018), section 5: a
 * variational autoencoder whose latent trajectory solves dz/dt = f(z).
 *
 * - Recognition network: an Elman RNN run backwards in time over a row's observations with input
 *   [x_k, t_k − t_{k−1}] (t_{−1} = t0), whose final state gives the mean and log-variance of q(z(t0)).
 * - Dynamics f: an ELU (or tanh) MLP latent → hidden → hidden → latent (`odeLayers` hidden layers); one ODE solve (classical RK4, steps no longer than
 *   `maxStep`, cubic Hermite dense output) gives the states at the sorted union of the batch's observation
 *   times, and each row gathers its own times.
 * - Decoder: a tanh MLP latent → hidden → observation, with a Gaussian likelihood of fixed standard deviation
 *   (missing values are left out), and KL(q ‖ N(0, I)) in closed form: the loss is the negative ELBO per row.
 * - Optional Poisson process for the observation times (section 5.1): log λ(z) from another MLP, and
 *   log p(times) = Σ log λ(z(t_i)) − ∫ λ(z(t)) dt, the integral carried as one extra ODE state.
 *
 * Gradients are exact for the discretised model (backpropagation through every RK4 stage), written out in
 * plain typed-array loops (see latent-ode-kernels.ts); reparameterisation noise comes from the seeded Rng.
 */
import type { Rng } from '../random/index.js';
import type { ObservationBatch } from './latent-ode-batch.js';
import {
  type AffineLayer,
  addAffine,
  addMlp,
  addRnn,
  affineBackward,
  affineForward,
  type Mlp,
  mlpBackward,
  mlpForward,
  ParameterLayout,
  type RnnLayer,
  rnnBackward,
  rnnForward,
  Scratch,
} from './latent-ode-kernels.js';

export interface LatentOdeOptions {
  readonly obsDim: number;
  readonly latentDim?: number;
  readonly rnnHidden?: number;
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
  readonly activation?: 'tanh' | 'elu';
  /** Largest RK4 step (default 0.1); observation times are read off the dense interpolant. */
  readonly maxStep?: number;
}

/** The terms of the last loss evaluation, per row (batch means). */
export interface LatentOdeLoss {
  /** Negative ELBO per row. */
  readonly loss: number;
  readonly logLikelihood: number;
  readonly kl: number;
  /** Poisson log-likelihood of the observation times (0 without `poisson`). */
  readonly timesLogLikelihood: number;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

export class LatentOde {
  readonly obsDim: number;
  readonly latentDim: number;
  readonly poisson: boolean;
  readonly observationStd: number;
  readonly maxStep: number;
  readonly activation: 'tanh' | 'elu';
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  private readonly stateDim: number;
  private readonly encoder: RnnLayer;
  private readonly head: AffineLayer;
  private readonly dynamicsNet: Mlp;
  private readonly decoder: Mlp;
  private readonly intensity: Mlp | null;
  private readonly scratch = new Scratch();

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
    this.maxStep = options.maxStep ?? 0.1;
    this.activation = options.activation ?? 'elu';
    if (this.activation !== 'tanh' && this.activation !== 'elu') {
      throw new RangeError(`LatentOde: activation must be 'tanh' or 'elu', got '${String(this.activation)}'`);
    }
    if (!(this.observationStd > 0)) {
      throw new RangeError(`LatentOde: observationStd must be > 0, got ${this.observationStd}`);
    }
    if (!(this.maxStep > 0)) throw new RangeError(`LatentOde: maxStep must be > 0, got ${this.maxStep}`);
    this.stateDim = this.latentDim + (this.poisson ? 1 : 0);
    const layout = new ParameterLayout();
    this.encoder = addRnn(layout, this.obsDim + 1, dims.rnnHidden);
    this.head = addAffine(layout, dims.rnnHidden, 2 * this.latentDim);
    this.dynamicsNet = addMlp(
      layout,
      this.latentDim,
      dims.odeHidden,
      this.latentDim,
      this.activation,
      dims.odeLayers,
    );
    this.decoder = addMlp(layout, this.latentDim, dims.decoderHidden, this.obsDim);
    this.intensity = this.poisson ? addMlp(layout, this.latentDim, dims.poissonHidden, 1) : null;
    this.parameters = layout.initialise(rng);
    this.gradients = new Float64Array(layout.size);
  }

  /** Runs the recognition RNN; returns [rows, 2·latent] (mean then log-variance) and the RNN buffers. */
  private encode(batch: ObservationBatch): {
    stats: Float64Array;
    inputs: Float64Array;
    active: Uint8Array;
    states: Float64Array;
  } {
    const { rows, slots, obsDim, grid, index, values } = batch;
    const inDim = obsDim + 1;
    const inputs = this.scratch.zeros('enc.inputs', slots * rows * inDim);
    const active = new Uint8Array(slots * rows);
    // Step s reads slot slots−1−s: the RNN runs backwards in time, so the final state summarises the row.
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < slots; k++) {
        const g = index[r * slots + k];
        if (g < 0) continue;
        const s = slots - 1 - k;
        active[s * rows + r] = 1;
        const o = (s * rows + r) * inDim;
        for (let d = 0; d < obsDim; d++) {
          const v = values[(r * slots + k) * obsDim + d];
          inputs[o + d] = Number.isNaN(v) ? 0 : v;
        }
        inputs[o + obsDim] = grid[g] - (k === 0 ? grid[0] : grid[index[r * slots + k - 1]]);
      }
    }
    const sd = this.encoder.stride;
    const states = this.scratch.get('enc.states', (slots + 1) * rows * sd);
    rnnForward(this.parameters, this.encoder, inputs, active, slots, rows, states);
    const stats = this.scratch.get('enc.stats', rows * 2 * this.latentDim);
    affineForward(this.parameters, this.head, states, slots * rows * sd, sd, rows, stats);
    return { stats, inputs, active, states };
  }

  /**
   * out = f(y) for rows of the (possibly augmented) state. With `slot` ≥ 0 the hidden activations are kept in
   * slot `slot` of the solve's cache, so the backward pass does not evaluate the network again.
   */
  private dynamics(y: Float64Array, rows: number, out: Float64Array, slot = -1): void {
    const L = this.latentDim;
    const D = this.stateDim;
    const theta = this.parameters;
    const { h, f, u, logRate } = this.activations(rows, slot);
    mlpForward(theta, this.dynamicsNet, y, 0, D, rows, h, f);
    for (let r = 0; r < rows; r++) for (let j = 0; j < L; j++) out[r * D + j] = f[r * L + j];
    if (this.intensity !== null) {
      mlpForward(theta, this.intensity, y, 0, D, rows, u, logRate);
      for (let r = 0; r < rows; r++) out[r * D + L] = Math.exp(logRate[r]);
    }
  }

  /** Buffers for one evaluation of f: scratch (slot −1) or a slot of the activation cache. */
  private activations(rows: number, slot: number) {
    const H = this.dynamicsNet.hiddenWidth;
    const P = this.intensity?.hiddenWidth ?? 0;
    const f = this.scratch.get('f.out', rows * this.latentDim);
    if (slot < 0) {
      return {
        h: this.scratch.get('f.h', rows * H),
        f,
        u: this.scratch.get('lambda.h', rows * P),
        logRate: this.scratch.get('lambda.out', rows),
      };
    }
    const cacheH = this.scratch.get('ode.cache.h', (slot + 1) * rows * H);
    const cacheU = this.scratch.get('ode.cache.u', (slot + 1) * rows * P);
    const cacheRate = this.scratch.get('ode.cache.rate', (slot + 1) * rows);
    return {
      h: cacheH.subarray(slot * rows * H, (slot + 1) * rows * H),
      f,
      u: cacheU.subarray(slot * rows * P, (slot + 1) * rows * P),
      logRate: cacheRate.subarray(slot * rows, (slot + 1) * rows),
    };
  }

  /**
   * Adds (∂f/∂y)ᵀ gOut to gy and the parameter part to the gradient vector, reusing the activations cached in
   * `slot` by {@link dynamics}.
   */
  private dynamicsBackward(
    y: Float64Array,
    rows: number,
    gOut: Float64Array,
    gy: Float64Array,
    slot: number,
  ): void {
    const L = this.latentDim;
    const D = this.stateDim;
    const theta = this.parameters;
    const { h, u, logRate } = this.activations(rows, slot);
    const gf = this.scratch.get('f.g', rows * L);
    for (let r = 0; r < rows; r++) for (let j = 0; j < L; j++) gf[r * L + j] = gOut[r * D + j];
    mlpBackward(theta, this.gradients, this.dynamicsNet, y, 0, D, rows, h, gf, gy, this.scratch);
    if (this.intensity !== null) {
      const gRate = this.scratch.get('lambda.g', rows);
      for (let r = 0; r < rows; r++) gRate[r] = gOut[r * D + L] * Math.exp(logRate[r]);
      mlpBackward(theta, this.gradients, this.intensity, y, 0, D, rows, u, gRate, gy, this.scratch);
    }
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
   * Classical RK4 from y0 [rows, D] on a uniform step grid, with the states at the grid times read off the
   * cubic Hermite interpolant through the nodes' values and slopes (fourth order, like the steps). The grid
   * times therefore never force extra steps: the cost is set by the time span and `maxStep`, not by how many
   * distinct observation times the batch has. Returns [G, rows, D]. The node states and slopes, and with
   * `keep` the four stage inputs of every step, stay in scratch for {@link solveBackward}.
   */
  private solve(y0: Float64Array, rows: number, grid: Float64Array, keep: boolean): Float64Array {
    const D = this.stateDim;
    const n = rows * D;
    const G = grid.length;
    const { count, h } = this.steps(grid);
    if (keep) {
      // Size the activation cache once: slots 0 … 4·count (four stages per step and the last node).
      const slots = 4 * count + 1;
      this.scratch.get('ode.cache.h', slots * rows * this.dynamicsNet.hiddenWidth);
      this.scratch.get('ode.cache.u', slots * rows * (this.intensity?.hiddenWidth ?? 0));
      this.scratch.get('ode.cache.rate', slots * rows);
    }
    const nodes = this.scratch.get('ode.nodes', (count + 1) * n);
    const slopes = this.scratch.get('ode.slopes', (count + 1) * n);
    const stages = keep ? this.scratch.get('ode.stages', count * 4 * n) : this.scratch.get('ode.tmp', 4 * n);
    const k = this.scratch.get('ode.k', n);
    const acc = this.scratch.get('ode.acc', n);
    nodes.set(y0.subarray(0, n), 0);
    for (let step = 0; step < count; step++) {
      const base = keep ? step * 4 * n : 0;
      const y = nodes.subarray(step * n, (step + 1) * n);
      const s1 = stages.subarray(base, base + n);
      const s2 = stages.subarray(base + n, base + 2 * n);
      const s3 = stages.subarray(base + 2 * n, base + 3 * n);
      const s4 = stages.subarray(base + 3 * n, base + 4 * n);
      s1.set(y);
      const k1 = slopes.subarray(step * n, (step + 1) * n);
      this.dynamics(s1, rows, k1, keep ? step * 4 : -1);
      for (let i = 0; i < n; i++) {
        acc[i] = k1[i];
        s2[i] = y[i] + 0.5 * h * k1[i];
      }
      this.dynamics(s2, rows, k, keep ? step * 4 + 1 : -1);
      for (let i = 0; i < n; i++) {
        acc[i] += 2 * k[i];
        s3[i] = y[i] + 0.5 * h * k[i];
      }
      this.dynamics(s3, rows, k, keep ? step * 4 + 2 : -1);
      for (let i = 0; i < n; i++) {
        acc[i] += 2 * k[i];
        s4[i] = y[i] + h * k[i];
      }
      this.dynamics(s4, rows, k, keep ? step * 4 + 3 : -1);
      const o = (step + 1) * n;
      for (let i = 0; i < n; i++) nodes[o + i] = y[i] + (h / 6) * (acc[i] + k[i]);
    }
    this.dynamics(
      nodes.subarray(count * n, (count + 1) * n),
      rows,
      slopes.subarray(count * n, (count + 1) * n),
      keep ? count * 4 : -1,
    );
    const ys = this.scratch.get(keep ? 'ode.ys' : 'ode.ys.eval', G * n);
    for (let g = 0; g < G; g++) {
      const [m, w0, w1, w2, w3] = this.hermite(grid, g, count, h);
      const a = m * n;
      const b = count === 0 ? a : a + n;
      for (let i = 0; i < n; i++) {
        ys[g * n + i] =
          w0 * nodes[a + i] + w1 * h * slopes[a + i] + w2 * nodes[b + i] + w3 * h * slopes[b + i];
      }
    }
    return ys;
  }

  /** Backward of {@link solve} (called right after it with keep): gYs [G, rows, D] → gradient w.r.t. y0. */
  private solveBackward(rows: number, grid: Float64Array, gYs: Float64Array): Float64Array {
    const D = this.stateDim;
    const n = rows * D;
    const G = grid.length;
    const { count, h } = this.steps(grid);
    const nodes = this.scratch.get('ode.nodes', (count + 1) * n);
    const stages = this.scratch.get('ode.stages', count * 4 * n);
    const gNodes = this.scratch.zeros('ode.gnodes', (count + 1) * n);
    const gSlopes = this.scratch.zeros('ode.gslopes', (count + 1) * n);
    for (let g = 0; g < G; g++) {
      const [m, w0, w1, w2, w3] = this.hermite(grid, g, count, h);
      const a = m * n;
      const b = count === 0 ? a : a + n;
      for (let i = 0; i < n; i++) {
        const v = gYs[g * n + i];
        gNodes[a + i] += w0 * v;
        gSlopes[a + i] += w1 * h * v;
        gNodes[b + i] += w2 * v;
        gSlopes[b + i] += w3 * h * v;
      }
    }
    const gy = this.scratch.get('ode.gy', n);
    gy.set(gNodes.subarray(count * n, (count + 1) * n));
    this.dynamicsBackward(
      nodes.subarray(count * n, (count + 1) * n),
      rows,
      gSlopes.subarray(count * n),
      gy,
      count * 4,
    );
    const gk = [1, 2, 3, 4].map((i) => this.scratch.get(`ode.gk${i}`, n));
    const gs = this.scratch.get('ode.gs', n);
    // Stage j's input is y + c_j·h·k_{j−1}.
    const weights = [0, 0.5 * h, 0.5 * h, h];
    for (let step = count - 1; step >= 0; step--) {
      const base = step * 4 * n;
      for (let i = 0; i < n; i++) {
        // k1 of a step is also the slope of the interpolant at its node.
        gk[0][i] = (h / 6) * gy[i] + gSlopes[step * n + i];
        gk[1][i] = (h / 3) * gy[i];
        gk[2][i] = (h / 3) * gy[i];
        gk[3][i] = (h / 6) * gy[i];
      }
      for (let j = 3; j >= 0; j--) {
        gs.fill(0, 0, n);
        this.dynamicsBackward(
          stages.subarray(base + j * n, base + (j + 1) * n),
          rows,
          gk[j],
          gs,
          step * 4 + j,
        );
        for (let i = 0; i < n; i++) gy[i] += gs[i];
        if (j > 0) for (let i = 0; i < n; i++) gk[j - 1][i] += weights[j] * gs[i];
      }
      for (let i = 0; i < n; i++) gy[i] += gNodes[step * n + i];
    }
    return gy;
  }

  /**
   * Negative ELBO per row for `batch` with one reparameterised sample of z(t0) drawn from `rng`; sets
   * `gradients` to its gradient (overwriting).
   */
  lossAndGradient(batch: ObservationBatch, rng: Rng): LatentOdeLoss {
    this.gradients.fill(0);
    const { rows, slots, obsDim, grid, index, values } = batch;
    const L = this.latentDim;
    const D = this.stateDim;
    const theta = this.parameters;
    const enc = this.encode(batch);
    const eps = this.scratch.get('eps', rows * L);
    const y0 = this.scratch.zeros('y0', rows * D);
    let kl = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L; j++) {
        const m = enc.stats[r * 2 * L + j];
        const lv = enc.stats[r * 2 * L + L + j];
        eps[r * L + j] = rng.normal();
        y0[r * D + j] = m + Math.exp(0.5 * lv) * eps[r * L + j];
        kl += 0.5 * (m * m + Math.exp(lv) - 1 - lv);
      }
    }
    const ys = this.solve(y0, rows, grid, true);
    // Gather the latent state at every used observation.
    const count = countUsed(batch);
    const zObs = this.scratch.get('zobs', count * D);
    const obsRow = new Int32Array(count);
    const obsSlot = new Int32Array(count);
    let c = 0;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < slots; k++) {
        const g = index[r * slots + k];
        if (g < 0) continue;
        for (let j = 0; j < D; j++) zObs[c * D + j] = ys[(g * rows + r) * D + j];
        obsRow[c] = r;
        obsSlot[c] = k;
        c++;
      }
    }
    const decHidden = this.scratch.get('dec.h', count * this.decoder.hiddenWidth);
    const xHat = this.scratch.get('dec.out', count * obsDim);
    mlpForward(theta, this.decoder, zObs, 0, D, count, decHidden, xHat);
    const variance = this.observationStd * this.observationStd;
    const logNorm = Math.log(variance) + LOG_TWO_PI;
    const gXHat = this.scratch.zeros('dec.g', count * obsDim);
    let logLik = 0;
    for (let i = 0; i < count; i++) {
      const vo = (obsRow[i] * slots + obsSlot[i]) * obsDim;
      for (let d = 0; d < obsDim; d++) {
        const x = values[vo + d];
        if (Number.isNaN(x)) continue;
        const diff = x - xHat[i * obsDim + d];
        logLik += -0.5 * ((diff * diff) / variance + logNorm);
        gXHat[i * obsDim + d] = -diff / variance / rows;
      }
    }
    const gZObs = this.scratch.zeros('zobs.g', count * D);
    mlpBackward(
      theta,
      this.gradients,
      this.decoder,
      zObs,
      0,
      D,
      count,
      decHidden,
      gXHat,
      gZObs,
      this.scratch,
    );
    const gYs = this.scratch.zeros('ode.gys', grid.length * rows * D);
    let timesLogLik = 0;
    if (this.intensity !== null) {
      const u = this.scratch.get('obs.lambda.h', count * this.intensity.hiddenWidth);
      const logRate = this.scratch.get('obs.lambda.out', count);
      mlpForward(theta, this.intensity, zObs, 0, D, count, u, logRate);
      const gLogRate = this.scratch.get('obs.lambda.g', count);
      for (let i = 0; i < count; i++) {
        timesLogLik += logRate[i];
        gLogRate[i] = -1 / rows;
      }
      mlpBackward(theta, this.gradients, this.intensity, zObs, 0, D, count, u, gLogRate, gZObs, this.scratch);
      for (let r = 0; r < rows; r++) {
        timesLogLik -= ys[(batch.windowEnd[r] * rows + r) * D + L];
        gYs[(batch.windowEnd[r] * rows + r) * D + L] += 1 / rows;
      }
    }
    for (let i = 0; i < count; i++) {
      const g = index[obsRow[i] * slots + obsSlot[i]];
      for (let j = 0; j < D; j++) gYs[(g * rows + obsRow[i]) * D + j] += gZObs[i * D + j];
    }
    const gY0 = this.solveBackward(rows, grid, gYs);
    // Reparameterisation z0 = m + exp(lv/2)·ε and the closed-form KL to N(0, I).
    const gStats = this.scratch.get('enc.gstats', rows * 2 * L);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L; j++) {
        const m = enc.stats[r * 2 * L + j];
        const lv = enc.stats[r * 2 * L + L + j];
        const g = gY0[r * D + j];
        gStats[r * 2 * L + j] = g + m / rows;
        gStats[r * 2 * L + L + j] =
          g * eps[r * L + j] * 0.5 * Math.exp(0.5 * lv) + (0.5 * (Math.exp(lv) - 1)) / rows;
      }
    }
    const sd = this.encoder.stride;
    const gStates = this.scratch.zeros('enc.gstates', (slots + 1) * rows * sd);
    // Only the final state feeds the head, so its gradient lands in the last block of gStates.
    affineBackward(
      theta,
      this.gradients,
      this.head,
      enc.states,
      slots * rows * sd,
      sd,
      rows,
      gStats,
      gStates,
    );
    rnnBackward(
      theta,
      this.gradients,
      this.encoder,
      enc.inputs,
      enc.active,
      slots,
      rows,
      enc.states,
      gStates,
      this.scratch,
    );
    const loss = (-logLik - timesLogLik + kl) / rows;
    return { loss, logLikelihood: logLik / rows, kl: kl / rows, timesLogLikelihood: timesLogLik / rows };
  }

  /**
   * Decodes the posterior-mean trajectory of every row of `batch` at the times of `grid` (which must start at
   * the batch's t0): returns [rows, grid.length, obsDim]. Used for reconstruction and extrapolation.
   */
  predict(batch: ObservationBatch, grid: Float64Array): Float64Array {
    const { rows, obsDim } = batch;
    const L = this.latentDim;
    const D = this.stateDim;
    const enc = this.encode(batch);
    const y0 = this.scratch.zeros('y0', rows * D);
    for (let r = 0; r < rows; r++) for (let j = 0; j < L; j++) y0[r * D + j] = enc.stats[r * 2 * L + j];
    const ys = this.solve(y0, rows, grid, false);
    const G = grid.length;
    const hidden = new Float64Array(G * rows * this.decoder.hiddenWidth);
    const xs = new Float64Array(G * rows * obsDim);
    mlpForward(this.parameters, this.decoder, ys, 0, D, G * rows, hidden, xs);
    const out = new Float64Array(rows * G * obsDim);
    for (let g = 0; g < G; g++) {
      for (let r = 0; r < rows; r++) {
        for (let d = 0; d < obsDim; d++) out[(r * G + g) * obsDim + d] = xs[(g * rows + r) * obsDim + d];
      }
    }
    return out;
  }
}

function countUsed(batch: ObservationBatch): number {
  let n = 0;
  for (let i = 0; i < batch.index.length; i++) if (batch.index[i] >= 0) n++;
  return n;
}
