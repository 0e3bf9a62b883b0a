/**
 * Parameter initializers. Each is a function that fills a parameter's values from an {@link Rng}, given the
 * parameter's shape and the fan-in/fan-out of the layer it belongs to (a bias is initialised with its
 * weight's fans, which is what PyTorch's default scheme needs).
 *
 * Fans follow PyTorch's convention for a weight of shape [out, in, k1, k2, ...]: fanIn = in · k1 · k2 ...,
 * fanOut = out · k1 · k2 ...
 */
import type { Rng } from '../random/index.js';
import { NnError } from './errors.js';

/** Shape and fans of the parameter being initialised. */
export interface InitContext {
  readonly shape: readonly number[];
  readonly fanIn: number;
  readonly fanOut: number;
}

/** Fills `out` (row-major values of a parameter of shape `context.shape`). */
export type Initializer = (out: Float64Array, rng: Rng, context: InitContext) => void;

/** Nonlinearities with a recommended gain (PyTorch `calculate_gain`). */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu';

/** Fans of a weight of shape [out, in, ...kernel] (PyTorch convention); a 1-d shape has fanIn = fanOut = n. */
export function fanInOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    const n = shape.length === 0 ? 1 : shape[0];
    return { fanIn: n, fanOut: n };
  }
  let receptive = 1;
  for (let d = 2; d < shape.length; d++) receptive *= shape[d];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * The gain recommended for a nonlinearity: 1 for linear/sigmoid, 5/3 for tanh, √2 for relu and
 * √(2 / (1 + slope²)) for leaky relu.
 */
export function recommendedGain(nonlinearity: Nonlinearity, negativeSlope = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu':
      return Math.sqrt(2 / (1 + negativeSlope * negativeSlope));
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new NnError('invalidArgument', `${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

/** N(mean, std²). */
export function initNormal(options: { mean?: number; std?: number } = {}): Initializer {
  const mean = options.mean ?? 0;
  const std = positive('initNormal: std', options.std ?? 1);
  return (out, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  };
}

/** U(low, high). */
export function initUniform(options: { low?: number; high?: number } = {}): Initializer {
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  if (!(high >= low))
    throw new NnError('invalidArgument', `initUniform: high (${high}) must be >= low (${low})`);
  return (out, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.uniformIn(low, high);
  };
}

/** A constant value. */
export function initConstant(value: number): Initializer {
  return (out) => {
    out.fill(value);
  };
}

/** Zeros. */
export const initZeros: Initializer = (out) => {
  out.fill(0);
};

/** Ones. */
export const initOnes: Initializer = (out) => {
  out.fill(1);
};

/**
 * Glorot/Xavier uniform (Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
 * networks", AISTATS 2010): U(−a, a) with a = gain · √(6 / (fanIn + fanOut)).
 */
export function initGlorotUniform(options: { gain?: number } = {}): Initializer {
  const g = positive('initGlorotUniform: gain', options.gain ?? 1);
  return (out, rng, { fanIn, fanOut }) => {
    const a = g * Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < out.length; i++) out[i] = rng.uniformIn(-a, a);
  };
}

/** Glorot/Xavier normal: N(0, std²) with std = gain · √(2 / (fanIn + fanOut)). */
export function initGlorotNormal(options: { gain?: number } = {}): Initializer {
  const g = positive('initGlorotNormal: gain', options.gain ?? 1);
  return (out, rng, { fanIn, fanOut }) => {
    const std = g * Math.sqrt(2 / (fanIn + fanOut));
    for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  };
}

/** Options of the Kaiming initializers. */
export interface KaimingOptions {
  /** Which fan preserves the variance: 'fanIn' (forward pass, default) or 'fanOut' (backward pass). */
  readonly mode?: 'fanIn' | 'fanOut';
  /** Nonlinearity that follows the layer (default 'leakyRelu', as in PyTorch). */
  readonly nonlinearity?: Nonlinearity;
  /** Negative slope of the leaky relu (default 0). */
  readonly negativeSlope?: number;
}

function kaimingStd(options: KaimingOptions, context: InitContext): number {
  const fan = (options.mode ?? 'fanIn') === 'fanIn' ? context.fanIn : context.fanOut;
  return recommendedGain(options.nonlinearity ?? 'leakyRelu', options.negativeSlope ?? 0) / Math.sqrt(fan);
}

/**
 * Kaiming/He uniform (He et al., "Delving deep into rectifiers", ICCV 2015): U(−b, b) with
 * b = gain · √(3 / fan).
 */
export function initKaimingUniform(options: KaimingOptions = {}): Initializer {
  return (out, rng, context) => {
    const b = Math.sqrt(3) * kaimingStd(options, context);
    for (let i = 0; i < out.length; i++) out[i] = rng.uniformIn(-b, b);
  };
}

/** Kaiming/He normal: N(0, std²) with std = gain / √fan. */
export function initKaimingNormal(options: KaimingOptions = {}): Initializer {
  return (out, rng, context) => {
    const std = kaimingStd(options, context);
    for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  };
}

/**
 * PyTorch's default for Linear and Conv weights and biases: U(−1/√fanIn, 1/√fanIn). For the weight this is
 * what `kaiming_uniform_(a = √5)` works out to; for the bias PyTorch uses the weight's fanIn, as we do.
 */
export const initPytorchDefault: Initializer = (out, rng, { fanIn }) => {
  const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  for (let i = 0; i < out.length; i++) out[i] = rng.uniformIn(-b, b);
};
