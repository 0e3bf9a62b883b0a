/**
 * Recurrent cells, used by ODE-RNN and latent-ODE encoders (Rubanova et al., NeurIPS 2019). Parameter names,
 * shapes, gate order and initialisation follow PyTorch's `nn.GRUCell` and `nn.RNNCell`, so weights transfer.
 */
import type { Rng } from '../random/index.js';
import { add, mul, relu, sigmoid, sub, tanh } from '../tensor/ops/elementwise.js';
import { linear } from '../tensor/ops/matmul.js';
import { slice } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { initUniform } from './init.js';
import { checkFeatures, checkRng } from './linear.js';
import { Module, type Parameter } from './module.js';

export interface RecurrentCellOptions {
  readonly rng: Rng;
  /** Whether the cell has the biases b_ih and b_hh (default true). */
  readonly bias?: boolean;
}

/** weight_ih [gates·H, in], weight_hh [gates·H, H], bias_ih, bias_hh [gates·H], all U(−1/√H, 1/√H). */
abstract class RecurrentCell extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  protected readonly weightIh: Parameter;
  protected readonly weightHh: Parameter;
  protected readonly biasIh: Parameter | null;
  protected readonly biasHh: Parameter | null;

  protected constructor(
    owner: string,
    gates: number,
    inputSize: number,
    hiddenSize: number,
    options: RecurrentCellOptions,
  ) {
    super();
    checkFeatures(owner, 'inputSize', inputSize);
    checkFeatures(owner, 'hiddenSize', hiddenSize);
    const rng = checkRng(owner, options);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    const k = 1 / Math.sqrt(hiddenSize);
    const init = initUniform({ low: -k, high: k });
    this.weightIh = this.addParameter('weight_ih', [gates * hiddenSize, inputSize], init, rng);
    this.weightHh = this.addParameter('weight_hh', [gates * hiddenSize, hiddenSize], init, rng);
    const bias = options.bias ?? true;
    this.biasIh = bias ? this.addParameter('bias_ih', [gates * hiddenSize], init, rng) : null;
    this.biasHh = bias ? this.addParameter('bias_hh', [gates * hiddenSize], init, rng) : null;
  }

  protected check(owner: string, x: Tensor, h: Tensor): void {
    const ok =
      x.ndim >= 1 &&
      x.shape[x.ndim - 1] === this.inputSize &&
      h.ndim === x.ndim &&
      h.shape[h.ndim - 1] === this.hiddenSize &&
      x.shape.slice(0, -1).every((d, i) => d === h.shape[i]);
    if (!ok) {
      throw new NnError(
        'invalidArgument',
        `${owner}(${this.inputSize}, ${this.hiddenSize}): got x [${x.shape.join(', ')}] and h [${h.shape.join(', ')}], expected x [..., ${this.inputSize}] and h [..., ${this.hiddenSize}] with the same batch dimensions`,
      );
    }
  }

  /** The input and hidden projections W_ih x + b_ih and W_hh h + b_hh. */
  protected projections(x: Tensor, h: Tensor): [Tensor, Tensor] {
    return [
      linear(x, this.weightIh.tensor, this.biasIh?.tensor ?? null),
      linear(h, this.weightHh.tensor, this.biasHh?.tensor ?? null),
    ];
  }
}

/**
 * Gated recurrent unit (Cho et al., EMNLP 2014), PyTorch's formulation with gates in the order r, z, n:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 */
export class GruCell extends RecurrentCell {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentCellOptions) {
    super('GruCell', 3, inputSize, hiddenSize, options);
  }

  /** One step: x [..., inputSize], h [..., hiddenSize] → h' [..., hiddenSize]. */
  forward(x: Tensor, h: Tensor): Tensor {
    this.check('GruCell', x, h);
    const [gi, gh] = this.projections(x, h);
    const H = this.hiddenSize;
    const axis = gi.ndim - 1;
    const r = sigmoid(add(slice(gi, axis, 0, H), slice(gh, axis, 0, H)));
    const z = sigmoid(add(slice(gi, axis, H, 2 * H), slice(gh, axis, H, 2 * H)));
    const n = tanh(add(slice(gi, axis, 2 * H, 3 * H), mul(r, slice(gh, axis, 2 * H, 3 * H))));
    // (1 − z) n + z h written as n + z (h − n): one multiplication fewer.
    return add(n, mul(z, sub(h, n)));
  }
}

/** Elman cell: h' = act(W_ih x + b_ih + W_hh h + b_hh) with act = tanh (default) or relu. */
export class RnnCell extends RecurrentCell {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(
    inputSize: number,
    hiddenSize: number,
    options: RecurrentCellOptions & { readonly nonlinearity?: 'tanh' | 'relu' },
  ) {
    super('RnnCell', 1, inputSize, hiddenSize, options);
    this.nonlinearity = options.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') {
      throw new NnError(
        'invalidArgument',
        `RnnCell: nonlinearity must be 'tanh' or 'relu', got '${this.nonlinearity}'`,
      );
    }
  }

  forward(x: Tensor, h: Tensor): Tensor {
    this.check('RnnCell', x, h);
    const [gi, gh] = this.projections(x, h);
    const pre = add(gi, gh);
    return this.nonlinearity === 'tanh' ? tanh(pre) : relu(pre);
  }
}
