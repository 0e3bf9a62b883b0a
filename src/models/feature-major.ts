/**
 * Batch layers in feature-major layout, shared by the latent ODE and its RNN baseline.
 *
 * Parameters live in one flat Float64Array (offsets from {@link ParameterLayout}); gradients accumulate into a
 * matching vector, so the optimizer and checkpoints see θ as one vector. Activations live in a
 * {@link Workspace} as *blocks*: a block holds `K` features of `width` batch rows, one feature per row of the
 * block, so that the rows of the batch run along the SIMD lanes and a layer over the whole batch is one matrix
 * product with the (tiny) weight matrix: out[o, :] = Σ_i W[o, i]·in[i, :]. The last row of an input block is
 * all ones, and a layer's weights are packed with its bias as the matching last column, so the bias costs
 * nothing extra; rows of a block that a layer does not read get zero columns. Widths are multiples of 16
 * (padding columns stay zero in every gradient).
 *
 * The backward passes are written out by hand; test/feature-major.test.ts checks each against plain loops and
 * finite differences.
 */
import type { Rng } from '../random/index.js';
import type { Workspace } from '../tensor/workspace.js';

/** Hands out consecutive slices of one flat parameter vector and remembers how to initialise them. */
export class ParameterLayout {
  size = 0;
  private readonly inits: { offset: number; length: number; bound: number }[] = [];

  /** Reserves `length` values initialised U(−bound, bound) (bound 0: zeros). Returns the offset. */
  add(length: number, bound: number): number {
    const offset = this.size;
    this.inits.push({ offset, length, bound });
    this.size += length;
    return offset;
  }

  /** Allocates and initialises θ. */
  initialise(rng: Rng): Float64Array {
    const theta = new Float64Array(this.size);
    for (const { offset, length, bound } of this.inits) {
      for (let i = 0; i < length; i++) theta[offset + i] = bound === 0 ? 0 : rng.uniformIn(-bound, bound);
    }
    return theta;
  }
}

/** Offsets of an affine layer W [out, in], b [out] in θ (bias −1: a linear layer without bias). */
export interface AffineLayer {
  readonly inDim: number;
  readonly outDim: number;
  readonly weight: number;
  readonly bias: number;
}

/**
 * PyTorch's default initialisation bound 1/√fan_in for both weight and bias. `bias` false: no bias in θ
 * (the packed bias column stays zero).
 */
export function addAffine(layout: ParameterLayout, inDim: number, outDim: number, bias = true): AffineLayer {
  const bound = 1 / Math.sqrt(inDim);
  const weight = layout.add(inDim * outDim, bound);
  return { inDim, outDim, weight, bias: bias ? layout.add(outDim, bound) : -1 };
}

/** Batch width for `rows` rows: rounded up to a multiple of 16. */
export function paddedWidth(rows: number): number {
  return Math.max(16, Math.ceil(rows / 16) * 16);
}

/** Columns [column, column + width) of a packed matrix come from θ[theta + o·rowStride + c]. */
export interface WeightSegment {
  readonly column: number;
  readonly width: number;
  readonly theta: number;
  readonly rowStride: number;
}

/**
 * A layer's weights packed into a workspace as Wext [outDim, K] for an input block of K rows (the last one
 * all ones), with its gradient accumulator of the same shape.
 */
export class PackedWeights {
  /** Offsets of Wext and of its gradient in the workspace. */
  readonly w: number;
  readonly g: number;

  constructor(
    ws: Workspace,
    readonly outDim: number,
    readonly K: number,
    private readonly segments: readonly WeightSegment[],
    private readonly bias: number,
  ) {
    this.w = ws.alloc(outDim * K);
    this.g = ws.alloc(outDim * K);
  }

  /** A plain layer reading the first `layer.inDim` rows of a K-row block. */
  static of(ws: Workspace, layer: AffineLayer, K: number): PackedWeights {
    if (K < layer.inDim + 1)
      throw new RangeError(`PackedWeights: K (${K}) must exceed inDim (${layer.inDim})`);
    return new PackedWeights(
      ws,
      layer.outDim,
      K,
      [{ column: 0, width: layer.inDim, theta: layer.weight, rowStride: layer.inDim }],
      layer.bias,
    );
  }

  /** Copies the weights from θ and clears the gradient accumulator. */
  pack(ws: Workspace, theta: Float64Array): void {
    const h = ws.heap;
    const { outDim, K, w } = this;
    h.fill(0, w, w + outDim * K);
    h.fill(0, this.g, this.g + outDim * K);
    for (let o = 0; o < outDim; o++) {
      for (const s of this.segments) {
        for (let c = 0; c < s.width; c++) h[w + o * K + s.column + c] = theta[s.theta + o * s.rowStride + c];
      }
      if (this.bias >= 0) h[w + o * K + K - 1] = theta[this.bias + o];
    }
  }

  /** Adds the accumulated gradient into the flat gradient vector. */
  unpack(ws: Workspace, grad: Float64Array): void {
    const h = ws.heap;
    const { outDim, K, g } = this;
    for (let o = 0; o < outDim; o++) {
      for (const s of this.segments) {
        for (let c = 0; c < s.width; c++) grad[s.theta + o * s.rowStride + c] += h[g + o * K + s.column + c];
      }
      if (this.bias >= 0) grad[this.bias + o] += h[g + o * K + K - 1];
    }
  }

  /** out [outDim, width] (+)= Wext · input [K, width]. */
  forward(ws: Workspace, input: number, width: number, out: number, accumulate = false): void {
    ws.matmul(this.outDim, width, this.K, this.w, this.K, 1, input, out, accumulate);
  }

  /**
   * Given gOut [outDim, width] (the gradient at the layer's output, before any activation): adds gOut·inputᵀ
   * to the weight gradient and, when gIn ≥ 0, W[:, 0:inRows]ᵀ·gOut into gIn [inRows, width] (accumulating
   * when `accumulate`).
   */
  backward(
    ws: Workspace,
    input: number,
    width: number,
    gOut: number,
    gIn: number,
    inRows: number,
    accumulate: boolean,
  ): void {
    ws.matmulTransB(this.outDim, this.K, width, gOut, input, this.g, true);
    if (gIn >= 0) ws.matmul(inRows, width, this.outDim, this.w, 1, this.K, gOut, gIn, accumulate);
  }
}

export type Activation = 'tanh' | 'elu' | 'relu';

/**
 * An MLP x → act(W1 x + b1) → … → act(W_d h + b_d) → W_out h + b_out with `depth` hidden layers of equal
 * width and act = tanh, ELU or ReLU (the biases b optional: {@link addMlp}).
 */
export interface Mlp {
  readonly layers: readonly AffineLayer[];
  readonly width: number;
  readonly depth: number;
  readonly activation: Activation;
}

export function addMlp(
  layout: ParameterLayout,
  inDim: number,
  hidden: number,
  outDim: number,
  activation: Activation = 'tanh',
  depth = 1,
  bias = true,
): Mlp {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`addMlp: depth must be >= 1, got ${depth}`);
  const layers: AffineLayer[] = [addAffine(layout, inDim, hidden, bias)];
  for (let l = 1; l < depth; l++) layers.push(addAffine(layout, hidden, hidden, bias));
  layers.push(addAffine(layout, hidden, outDim, bias));
  return { layers, width: hidden, depth, activation };
}

function activate(ws: Workspace, act: Activation, n: number, x: number): void {
  if (act === 'tanh') ws.tanh(n, x, x);
  else if (act === 'elu') ws.elu(n, x, x);
  else ws.relu(n, x, x);
}

function activationGrad(ws: Workspace, act: Activation, n: number, g: number, y: number): void {
  if (act === 'tanh') ws.tanhGrad(n, g, y);
  else if (act === 'elu') ws.eluGrad(n, g, y);
  else ws.reluGrad(n, g, y);
}

/**
 * An {@link Mlp} packed into a workspace for inputs of K-row blocks (the input features in the first rows,
 * ones in the last). Hidden activations go to caller-provided blocks of (width + 1) rows whose last row is
 * ones ({@link allocHidden}), so the backward pass reuses them.
 */
export class PackedMlp {
  readonly packed: readonly PackedWeights[];
  /** Rows of a block of hidden activations (the width plus the ones row). */
  readonly hiddenRows: number;
  private readonly gradA: number;
  private readonly gradB: number;

  /**
   * `firstSegments` places the first layer's weight columns in the input block (default: the first
   * inDim rows).
   */
  constructor(
    ws: Workspace,
    readonly mlp: Mlp,
    inputRows: number,
    readonly maxWidth: number,
    firstSegments?: readonly WeightSegment[],
  ) {
    this.hiddenRows = mlp.width + 1;
    this.packed = mlp.layers.map((l, i) => {
      if (i > 0) return PackedWeights.of(ws, l, this.hiddenRows);
      if (firstSegments === undefined) return PackedWeights.of(ws, l, inputRows);
      return new PackedWeights(ws, l.outDim, inputRows, firstSegments, l.bias);
    });
    this.gradA = ws.alloc(mlp.width * maxWidth);
    this.gradB = ws.alloc(mlp.width * maxWidth);
  }

  get outDim(): number {
    return this.mlp.layers[this.mlp.layers.length - 1].outDim;
  }

  /** Blocks for the hidden activations of one evaluation over `width` columns (ones rows filled). */
  allocHidden(ws: Workspace, width: number): number[] {
    const blocks: number[] = [];
    for (let l = 0; l < this.mlp.depth; l++) {
      const b = ws.alloc(this.hiddenRows * width);
      ws.heap.fill(1, b + this.mlp.width * width, b + this.hiddenRows * width);
      blocks.push(b);
    }
    return blocks;
  }

  pack(ws: Workspace, theta: Float64Array): void {
    for (const p of this.packed) p.pack(ws, theta);
  }

  unpack(ws: Workspace, grad: Float64Array): void {
    for (const p of this.packed) p.unpack(ws, grad);
  }

  forward(ws: Workspace, input: number, width: number, hidden: readonly number[], out: number): void {
    const { depth, width: H, activation } = this.mlp;
    let x = input;
    for (let l = 0; l < depth; l++) {
      this.packed[l].forward(ws, x, width, hidden[l]);
      activate(ws, activation, H * width, hidden[l]);
      x = hidden[l];
    }
    this.packed[depth].forward(ws, x, width, out);
  }

  /**
   * Backward of {@link forward} with the hidden activations it left in `hidden`: gOut [outDim, width] (not
   * modified) → weight gradients, and W1[:, 0:inRows]ᵀ·g into gIn [inRows, width] when gIn ≥ 0.
   */
  backward(
    ws: Workspace,
    input: number,
    width: number,
    hidden: readonly number[],
    gOut: number,
    gIn: number,
    inRows: number,
    accumulate: boolean,
  ): void {
    if (width > this.maxWidth) throw new RangeError(`PackedMlp: width ${width} exceeds ${this.maxWidth}`);
    const { depth, width: H, activation } = this.mlp;
    let g = gOut;
    let spare = this.gradA;
    for (let l = depth; l >= 1; l--) {
      this.packed[l].backward(ws, hidden[l - 1], width, g, spare, H, false);
      activationGrad(ws, activation, H * width, spare, hidden[l - 1]);
      g = spare;
      spare = spare === this.gradA ? this.gradB : this.gradA;
    }
    this.packed[0].backward(ws, input, width, g, gIn, inRows, accumulate);
  }
}

/**
 * Buffers of an Elman RNN h' = tanh(Wh h + Wx x + b) run over `steps` steps of `width` columns. Step s reads
 * block s = [h_s (hidden rows); x_s (inDim rows); 1] and writes h_{s+1} into the top of block s + 1, so the
 * recurrence and the input projection are one product with Wext = [Wh | Wx | b]. Callers write the inputs
 * x_s into rows hidden … hidden + inDim − 1 of block s ({@link rnnInputRow}).
 */
export interface RnnBuffers {
  readonly hidden: number;
  readonly inDim: number;
  /** Rows of a block: hidden + inDim + 1. */
  readonly K: number;
  readonly width: number;
  readonly steps: number;
  /** Offset of block 0; block s starts at blocks + s·K·width. */
  readonly blocks: number;
  /** Two gradient buffers [hidden, width] for backpropagation through time. */
  readonly gA: number;
  readonly gB: number;
}

/** Offsets of an Elman cell's parameters in θ: input layer (Wx, b) and the recurrent matrix Wh. */
export interface RnnCell {
  readonly inDim: number;
  readonly hidden: number;
  readonly input: AffineLayer;
  readonly recurrent: number;
}

export function addRnn(layout: ParameterLayout, inDim: number, hidden: number): RnnCell {
  const input = addAffine(layout, inDim, hidden);
  return { inDim, hidden, input, recurrent: layout.add(hidden * hidden, 1 / Math.sqrt(hidden)) };
}

/** The cell's Wext = [Wh | Wx | b] packed for blocks of hidden + inDim + 1 rows. */
export function packRnnCell(ws: Workspace, cell: RnnCell): PackedWeights {
  const { hidden, inDim } = cell;
  return new PackedWeights(
    ws,
    hidden,
    hidden + inDim + 1,
    [
      { column: 0, width: hidden, theta: cell.recurrent, rowStride: hidden },
      { column: hidden, width: inDim, theta: cell.input.weight, rowStride: inDim },
    ],
    cell.input.bias,
  );
}

/** `count` consecutive blocks of K rows of `width`, each with its last row all ones. */
function allocInputBlocks(ws: Workspace, count: number, K: number, width: number): number {
  const blocks = ws.alloc(count * K * width);
  for (let s = 0; s < count; s++) {
    const ones = blocks + (s * K + K - 1) * width;
    ws.heap.fill(1, ones, ones + width);
  }
  return blocks;
}

/** Buffers of a cell of these sizes (an Elman cell's; a GRU's adds to them, see {@link allocGru}). */
export function allocRnn(
  ws: Workspace,
  cell: Pick<RnnCell, 'hidden' | 'inDim'>,
  width: number,
  steps: number,
): RnnBuffers {
  const { hidden, inDim } = cell;
  const K = hidden + inDim + 1;
  const blocks = allocInputBlocks(ws, steps + 1, K, width);
  return {
    hidden,
    inDim,
    K,
    width,
    steps,
    blocks,
    gA: ws.alloc(hidden * width),
    gB: ws.alloc(hidden * width),
  };
}

/** Offset of input feature `d` of step `s` (a row of `width` values). */
export function rnnInputRow(buf: RnnBuffers, s: number, d: number): number {
  return buf.blocks + (s * buf.K + buf.hidden + d) * buf.width;
}

/** Offset of the state h_s (a [hidden, width] block). */
export function rnnState(buf: RnnBuffers, s: number): number {
  return buf.blocks + s * buf.K * buf.width;
}

/** Columns `idle` of the state block `next` [hidden, width] keep their values from `prev`. */
function keepIdleStates(
  h: Float64Array,
  idle: Int32Array | undefined,
  hidden: number,
  width: number,
  prev: number,
  next: number,
): void {
  if (idle === undefined) return;
  for (let i = 0; i < idle.length; i++) {
    const c = idle[i];
    for (let j = 0; j < hidden; j++) h[next + j * width + c] = h[prev + j * width + c];
  }
}

/**
 * The backward side of {@link keepIdleStates}: an idle column copied its state, so its gradient passes
 * straight through and none reaches the cell. `hold` moves the idle columns' gradient out of g (leaving
 * zeros), `release` adds it into the previous state's gradient.
 */
class IdleGradients {
  private saved = new Float64Array(0);

  constructor(
    private readonly hidden: number,
    private readonly width: number,
  ) {}

  hold(h: Float64Array, idle: Int32Array | undefined, g: number): void {
    if (idle === undefined || idle.length === 0) return;
    const { hidden, width } = this;
    if (this.saved.length < idle.length * hidden) this.saved = new Float64Array(idle.length * hidden);
    const saved = this.saved;
    for (let i = 0; i < idle.length; i++) {
      const c = idle[i];
      for (let j = 0; j < hidden; j++) {
        saved[i * hidden + j] = h[g + j * width + c];
        h[g + j * width + c] = 0;
      }
    }
  }

  release(h: Float64Array, idle: Int32Array | undefined, gPrev: number): void {
    if (idle === undefined) return;
    const { hidden, width, saved } = this;
    for (let i = 0; i < idle.length; i++) {
      const c = idle[i];
      for (let j = 0; j < hidden; j++) h[gPrev + j * width + c] += saved[i * hidden + j];
    }
  }
}

/**
 * The loop of backpropagation through time that both cells share. From the last step down: `external(s + 1, g)`
 * may add gradient into g = dL/dh_{s+1} (for s + 1 < steps), the gradient of the columns idle at step s is
 * held back, `undo(s, g, gPrev)` takes step s back (weight gradients into the cell, and, for s > 0, dL/dh_s
 * into gPrev, whose idle columns it leaves zero), and the held gradient passes on to gPrev. On entry
 * `buf.gA` holds dL/dh_steps.
 */
function backThroughTime(
  ws: Workspace,
  buf: RnnBuffers,
  inactive: readonly Int32Array[] | null,
  external: ((state: number, g: number) => void) | null,
  undo: (s: number, g: number, gPrev: number) => void,
): void {
  const { hidden, width, steps } = buf;
  let g = buf.gA;
  let gPrev = buf.gB;
  const idleGradients = new IdleGradients(hidden, width);
  for (let s = steps - 1; s >= 0; s--) {
    if (external !== null && s + 1 < steps) external(s + 1, g);
    const idle = inactive?.[s];
    idleGradients.hold(ws.heap, idle, g);
    undo(s, g, gPrev);
    if (s > 0) idleGradients.release(ws.heap, idle, gPrev);
    const t = g;
    g = gPrev;
    gPrev = t;
  }
}

/**
 * Runs the cell from h_0 = 0. `inactive[s]` (when given) lists the columns whose state does not change at
 * step s, which is how sequences of different lengths share one schedule.
 */
export function rnnForward(
  ws: Workspace,
  cell: PackedWeights,
  buf: RnnBuffers,
  inactive: readonly Int32Array[] | null,
): void {
  const { hidden, K, width, steps } = buf;
  const h0 = rnnState(buf, 0);
  ws.heap.fill(0, h0, h0 + hidden * width);
  for (let s = 0; s < steps; s++) {
    const prev = rnnState(buf, s);
    const next = rnnState(buf, s + 1);
    ws.matmul(hidden, width, K, cell.w, K, 1, prev, next, false);
    ws.tanh(hidden * width, next, next);
    keepIdleStates(ws.heap, inactive?.[s], hidden, width, prev, next);
  }
}

/**
 * Backpropagation through time for {@link rnnForward}. On entry `buf.gA` holds dL/dh_steps; before step s is
 * undone, `external(s + 1, g)` may add further gradient into g = dL/dh_{s+1} (for s + 1 < steps). The weight
 * gradient accumulates into `cell`.
 */
export function rnnBackward(
  ws: Workspace,
  cell: PackedWeights,
  buf: RnnBuffers,
  inactive: readonly Int32Array[] | null,
  external: ((state: number, g: number) => void) | null,
): void {
  const { hidden, K, width } = buf;
  backThroughTime(ws, buf, inactive, external, (s, g, gPrev) => {
    ws.tanhGrad(hidden * width, g, rnnState(buf, s + 1));
    const prev = rnnState(buf, s);
    ws.matmulTransB(hidden, K, width, g, prev, cell.g, true);
    if (s > 0) ws.matmul(hidden, width, hidden, cell.w, 1, K, g, gPrev, false);
  });
}

/**
 * Offsets of a gated recurrent unit's parameters in θ (the variant that applies the reset gate before the
 * recurrent product):
 *   z = σ(Wz·[h; x] + bz),  r = σ(Wr·[h; x] + br),  n = tanh(Wn·[r ⊙ h; x] + bn),  h' = (1 − z) ⊙ n + z ⊙ h.
 * `gates` holds [Wz; Wr] on h (recurrent, [2·hidden, hidden]) and on x with their biases (`gateInput`);
 * `candidate` the same for Wn. The gates let the state carry over many steps unchanged, which keeps the
 * gradients of long sequences bounded where an Elman cell's can grow by orders of magnitude.
 */
export interface GruCell {
  readonly kind: 'gru';
  readonly inDim: number;
  readonly hidden: number;
  readonly gateInput: AffineLayer;
  readonly gateRecurrent: number;
  readonly candidateInput: AffineLayer;
  readonly candidateRecurrent: number;
}

/** PyTorch's initialisation of a GRU: every weight and bias U(−1/√hidden, 1/√hidden). */
export function addGru(layout: ParameterLayout, inDim: number, hidden: number): GruCell {
  const bound = 1 / Math.sqrt(hidden);
  const gateInput = {
    inDim,
    outDim: 2 * hidden,
    weight: layout.add(2 * hidden * inDim, bound),
    bias: layout.add(2 * hidden, bound),
  };
  const gateRecurrent = layout.add(2 * hidden * hidden, bound);
  const candidateInput = {
    inDim,
    outDim: hidden,
    weight: layout.add(hidden * inDim, bound),
    bias: layout.add(hidden, bound),
  };
  const candidateRecurrent = layout.add(hidden * hidden, bound);
  return { kind: 'gru', inDim, hidden, gateInput, gateRecurrent, candidateInput, candidateRecurrent };
}

/** A GRU's packed weights: [Wz; Wr | Uz; Ur | b] and [Wn | Un | bn], both for blocks of hidden + inDim + 1 rows. */
export interface PackedGru {
  readonly gates: PackedWeights;
  readonly candidate: PackedWeights;
  readonly K: number;
  pack(ws: Workspace, theta: Float64Array): void;
  unpack(ws: Workspace, grad: Float64Array): void;
}

export function packGruCell(ws: Workspace, cell: GruCell): PackedGru {
  const { hidden, inDim } = cell;
  const K = hidden + inDim + 1;
  const gates = new PackedWeights(
    ws,
    2 * hidden,
    K,
    [
      { column: 0, width: hidden, theta: cell.gateRecurrent, rowStride: hidden },
      { column: hidden, width: inDim, theta: cell.gateInput.weight, rowStride: inDim },
    ],
    cell.gateInput.bias,
  );
  const candidate = new PackedWeights(
    ws,
    hidden,
    K,
    [
      { column: 0, width: hidden, theta: cell.candidateRecurrent, rowStride: hidden },
      { column: hidden, width: inDim, theta: cell.candidateInput.weight, rowStride: inDim },
    ],
    cell.candidateInput.bias,
  );
  return {
    gates,
    candidate,
    K,
    pack(w, theta) {
      gates.pack(w, theta);
      candidate.pack(w, theta);
    },
    unpack(w, grad) {
      gates.unpack(w, grad);
      candidate.unpack(w, grad);
    },
  };
}

/**
 * Buffers of a GRU run over `steps` steps. The blocks are laid out as an Elman cell's ({@link RnnBuffers}:
 * block s = [h_s; x_s; 1], so {@link rnnInputRow} and {@link rnnState} apply), and each step also keeps its
 * gates [z; r] ([2·hidden, width]), its candidate input block [r ⊙ h_s; x_s; 1] and its candidate n.
 */
export interface GruBuffers extends RnnBuffers {
  readonly gates: number;
  readonly candidateBlocks: number;
  readonly candidate: number;
  /** Scratch for the gate gradients [2·hidden, width] and the candidate's pre-activation gradient. */
  readonly gGates: number;
  readonly gCandidate: number;
  readonly gBlock: number;
}

export function allocGru(ws: Workspace, cell: GruCell, width: number, steps: number): GruBuffers {
  const base = allocRnn(ws, cell, width, steps);
  const { hidden, K } = base;
  return {
    ...base,
    candidateBlocks: allocInputBlocks(ws, Math.max(1, steps), K, width),
    gates: ws.alloc(Math.max(1, steps) * 2 * hidden * width),
    candidate: ws.alloc(Math.max(1, steps) * hidden * width),
    gGates: ws.alloc(2 * hidden * width),
    gCandidate: ws.alloc(hidden * width),
    gBlock: ws.alloc(hidden * width),
  };
}

/** Runs the GRU from h_0 = 0; idle columns of a step keep their state, as in {@link rnnForward}. */
export function gruForward(
  ws: Workspace,
  cell: PackedGru,
  buf: GruBuffers,
  inactive: readonly Int32Array[] | null,
): void {
  const { hidden, inDim, K, width, steps } = buf;
  const H = hidden * width;
  const h0 = rnnState(buf, 0);
  ws.heap.fill(0, h0, h0 + H);
  for (let s = 0; s < steps; s++) {
    const prev = rnnState(buf, s);
    const next = rnnState(buf, s + 1);
    const gates = buf.gates + s * 2 * H;
    const block = buf.candidateBlocks + s * K * width;
    const n = buf.candidate + s * H;
    // [z; r] = σ(a) = (1 + tanh(a/2))/2.
    cell.gates.forward(ws, prev, width, gates);
    ws.scale(2 * H, 0.5, gates, gates);
    ws.tanh(2 * H, gates, gates);
    ws.affine(2 * H, 0.5, 0.5, gates, gates);
    // Candidate block [r ⊙ h; x; 1].
    ws.mul(H, gates + H, prev, block);
    ws.heap.copyWithin(block + H, prev + H, prev + H + inDim * width);
    cell.candidate.forward(ws, block, width, n);
    ws.tanh(H, n, n);
    ws.lerp(H, gates, prev, n, next);
    keepIdleStates(ws.heap, inactive?.[s], hidden, width, prev, next);
  }
}

/**
 * Backpropagation through time for {@link gruForward}, with the contract of {@link rnnBackward}: on entry
 * `buf.gA` holds dL/dh_steps, `external(s + 1, g)` may add gradient into dL/dh_{s+1}, and the weight gradients
 * accumulate into `cell`.
 */
export function gruBackward(
  ws: Workspace,
  cell: PackedGru,
  buf: GruBuffers,
  inactive: readonly Int32Array[] | null,
  external: ((state: number, g: number) => void) | null,
): void {
  const { hidden, K, width } = buf;
  const H = hidden * width;
  const { gGates, gCandidate, gBlock } = buf;
  backThroughTime(ws, buf, inactive, external, (s, g, gPrev) => {
    const prev = rnnState(buf, s);
    const gates = buf.gates + s * 2 * H;
    const r = gates + H;
    const block = buf.candidateBlocks + s * K * width;
    const n = buf.candidate + s * H;
    const gz = gGates;
    const gr = gGates + H;
    // h' = n + z ⊙ (h − n): dn = g ⊙ (1 − z) ⊙ (1 − n²), dz = g ⊙ (h − n) ⊙ z(1 − z), dh = g ⊙ z.
    ws.gruGrad(H, g, gates, n, prev, gCandidate, gz, gPrev);
    // Candidate layer: weight gradient, and the gradient at r ⊙ h.
    cell.candidate.backward(ws, block, width, gCandidate, gBlock, hidden, false);
    ws.gruResetGrad(H, gBlock, prev, r, gr, gPrev);
    // Gate layer: weight gradient, and its recurrent part into dL/dh_s.
    // The idle columns of gPrev come out zero (their g was held back), so the loop's release sets them.
    cell.gates.backward(ws, prev, width, gGates, s > 0 ? gPrev : -1, hidden, true);
  });
}

/** Either recurrent cell, with one interface for callers that offer both. */
export type RecurrentCell = RnnCell | GruCell;
export type PackedRecurrent = PackedWeights | PackedGru;

function isGru(cell: RecurrentCell): cell is GruCell {
  return (cell as GruCell).kind === 'gru';
}

export function packRecurrent(ws: Workspace, cell: RecurrentCell): PackedRecurrent {
  return isGru(cell) ? packGruCell(ws, cell) : packRnnCell(ws, cell);
}

export function allocRecurrent(ws: Workspace, cell: RecurrentCell, width: number, steps: number): RnnBuffers {
  return isGru(cell) ? allocGru(ws, cell, width, steps) : allocRnn(ws, cell, width, steps);
}

/** {@link rnnForward} or {@link gruForward}, by the packed cell's kind (buffers from {@link allocRecurrent}). */
export function recurrentForward(
  ws: Workspace,
  cell: PackedRecurrent,
  buf: RnnBuffers,
  inactive: readonly Int32Array[] | null,
): void {
  if (cell instanceof PackedWeights) rnnForward(ws, cell, buf, inactive);
  else gruForward(ws, cell, buf as GruBuffers, inactive);
}

/** {@link rnnBackward} or {@link gruBackward}, by the packed cell's kind. */
export function recurrentBackward(
  ws: Workspace,
  cell: PackedRecurrent,
  buf: RnnBuffers,
  inactive: readonly Int32Array[] | null,
  external: ((state: number, g: number) => void) | null,
): void {
  if (cell instanceof PackedWeights) rnnBackward(ws, cell, buf, inactive, external);
  else gruBackward(ws, cell, buf as GruBuffers, inactive, external);
}
