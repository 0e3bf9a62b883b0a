/**
 * Normalisations and log-domain reductions: group norm, logsumexp, softmax, log-softmax. All are compositions
 * of differentiable ops, so their derivatives of every order are exact.
 */
import { formatShape, TensorError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, addScalar, div, exp, log, mul, sqrt, square, sub } from './elementwise.js';
import { max, mean, sum } from './reduce.js';
import { reshape } from './shape.js';

/** The constant (detached) maximum over `axes` with keepdim, with non-finite maxima replaced by 0. */
function finiteMax(x: Tensor, axes: number | readonly number[]): Tensor {
  const m = max(x.detach(), axes, true);
  // All −∞ (or ±∞) lines would give ∞ − ∞; shifting by 0 there keeps the result −∞/∞ instead of NaN.
  const md = m.data;
  for (let i = 0; i < md.length; i++) if (!Number.isFinite(md[i])) md[i] = 0;
  return m;
}

/**
 * log Σ exp(x) over `axes` (default: the last axis), computed stably as m + log Σ exp(x − m) with m the
 * (constant) maximum; the identity holds for any m, so treating m as a constant leaves the gradient exact.
 */
export function logSumExp(x: Tensor, axes: number | readonly number[] = -1, keepdim = false): Tensor {
  const m = finiteMax(x, axes);
  const s = add(log(sum(exp(sub(x, m)), axes, true)), m);
  if (keepdim) return s;
  const list = typeof axes === 'number' ? [axes] : axes;
  const drop = list.map((a) => normalizeAxis('logSumExp', a, x.ndim, x.shape));
  return reshape(
    s,
    x.shape.filter((_, d) => !drop.includes(d)),
  );
}

/** log softmax along `axis` (default last): x − logsumexp(x). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return sub(x, logSumExp(x, axis, true));
}

/**
 * softmax along `axis` (default last): exp(x − m) / Σ exp(x − m) with m the constant row maximum, which is
 * exact for any m and avoids overflow.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = exp(sub(x, finiteMax(x, axis)));
  return div(e, sum(e, axis, true));
}

/** Options of {@link groupNorm}. */
export interface GroupNormOptions {
  /** Per-channel scale [C], or null. */
  readonly weight?: Tensor | null;
  /** Per-channel shift [C], or null. */
  readonly bias?: Tensor | null;
  /** Added to the variance. Default 1e-5. */
  readonly eps?: number;
}

/**
 * Group normalisation (Wu & He, "Group Normalization", ECCV 2018): x [N, C, ...] is split into `numGroups`
 * groups of channels, each normalised to zero mean and unit (biased) variance over its channels and spatial
 * positions, then scaled and shifted per channel.
 */
export function groupNorm(x: Tensor, numGroups: number, options?: GroupNormOptions): Tensor {
  const xs = x.shape;
  if (xs.length < 2) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'groupNorm',
      `expected input [N, C, ...], got ${formatShape(xs)}`,
    );
  }
  const c = xs[1];
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new TensorError(
      'INVALID_ARGUMENT',
      'groupNorm',
      `numGroups ${numGroups} must be a positive divisor of the ${c} channels of ${formatShape(xs)}`,
    );
  }
  const eps = options?.eps ?? 1e-5;
  const weight = options?.weight ?? null;
  const bias = options?.bias ?? null;
  for (const [name, p] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (p !== null && (p.ndim !== 1 || p.shape[0] !== c)) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        'groupNorm',
        `${name} ${formatShape(p.shape)} must be [${c}] for input ${formatShape(xs)}`,
      );
    }
  }
  const grouped = reshape(x, [xs[0], numGroups, -1]);
  const mu = mean(grouped, 2, true);
  const centered = sub(grouped, mu);
  const variance = mean(square(centered), 2, true);
  const normalized = reshape(div(centered, sqrt(addScalar(variance, eps))), xs);
  const paramShape = xs.map((d, i) => (i === 1 ? d : 1));
  let y = normalized;
  if (weight !== null) y = mul(y, reshape(weight, paramShape));
  if (bias !== null) y = add(y, reshape(bias, paramShape));
  return y;
}
