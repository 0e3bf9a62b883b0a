/**
 * Losses and log-densities: cross-entropy with integer labels, mean squared error, the diagonal Gaussian
 * log-likelihood and the KL divergence between diagonal Gaussians (the ELBO terms of latent ODEs).
 */
import { gradMode, type Node, record } from '../../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { broadcastShapes, sameShape } from '../shape.js';
import { allocLike, Tensor } from '../tensor.js';
import { add, addScalar, exp, mul, mulScalar, neg, square, sub } from './elementwise.js';
import { logSoftmax } from './norm.js';
import { mean, sum } from './reduce.js';
import { gather } from './shape.js';

/** How a per-element loss is reduced. */
export type Reduction = 'none' | 'sum' | 'mean';

function reduce(op: string, x: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return mean(x);
  if (reduction === 'sum') return sum(x);
  if (reduction === 'none') return x;
  throw new TensorError(
    'INVALID_ARGUMENT',
    op,
    `reduction must be 'none', 'sum' or 'mean', got ${String(reduction)}`,
  );
}

/**
 * Cross-entropy between `logits` [N, C] and integer class `labels` (N values in [0, C)); labels that are
 * NaN, fractional or out of range throw INVALID_LABEL naming the position. Default reduction: mean.
 */
export function crossEntropy(
  logits: Tensor,
  labels: Int32Array | readonly number[] | Tensor,
  options?: { readonly reduction?: Reduction },
): Tensor {
  if (logits.ndim !== 2) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'crossEntropy',
      `logits must be [N, C], got ${formatShape(logits.shape)}`,
    );
  }
  const [n, c] = logits.shape;
  const values: ArrayLike<number> = labels instanceof Tensor ? labels.data : labels;
  if (values.length !== n) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'crossEntropy',
      `${values.length} labels for logits ${formatShape(logits.shape)}; expected ${n}`,
    );
  }
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= c) {
      throw new TensorError(
        'INVALID_LABEL',
        'crossEntropy',
        `label ${v} at position ${i} is not an integer class in [0, ${c}) for logits ${formatShape(logits.shape)}`,
      );
    }
    idx[i] = v;
  }
  const picked = gather(logSoftmax(logits, 1), 1, idx); // [N, 1]
  return reduce('crossEntropy', neg(picked).reshape([n]), options?.reduction ?? 'mean');
}

/** Mean squared error (pred − target)², broadcasting. Default reduction: mean. */
export function mseLoss(pred: Tensor, target: Tensor, options?: { readonly reduction?: Reduction }): Tensor {
  broadcastShapes('mseLoss', pred.shape, target.shape);
  const reduction = options?.reduction ?? 'mean';
  if (
    (reduction === 'mean' || reduction === 'sum') &&
    sameShape(pred.shape, target.shape) &&
    pred._data.constructor === target._data.constructor &&
    pred.size > 0
  ) {
    return fusedMse(pred, target, reduction === 'mean' ? 1 / pred.size : 1);
  }
  return reduce('mseLoss', square(sub(pred, target)), reduction);
}

/** scale·Σ(pred − target)² for same-shape operands as one recorded op (the common training loss). */
function fusedMse(pred: Tensor, target: Tensor, scale: number): Tensor {
  const p = pred.data;
  const t = target.data;
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const d = p[i] - t[i];
    s += d * d;
  }
  const o = allocLike(p, 1);
  o[0] = s * scale;
  const out = new Tensor(o, []);
  if (gradMode.enabled && (pred.requiresGrad || target.requiresGrad))
    record(out, 'mseLoss', mseVjp, [pred, target], null, scale);
  return out;
}

function mseVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [pred, target] = node.inputs;
  const scale = node.aux as number;
  let gp: Tensor;
  if (gradMode.enabled) {
    // Differentiable form (higher-order derivatives): 2·scale·(pred − target)·g.
    gp = mul(mulScalar(sub(pred, target), 2 * scale), g);
  } else {
    const p = pred.data;
    const t = target.data;
    const c = 2 * scale * g.item();
    const o = allocLike(p, p.length);
    for (let i = 0; i < p.length; i++) o[i] = c * (p[i] - t[i]);
    gp = new Tensor(o, pred.shape);
  }
  return [pred.requiresGrad ? gp : null, target.requiresGrad ? neg(gp) : null];
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

/**
 * log N(x; mean, exp(logVar)) elementwise: −½(log 2π + logVar + (x − mean)²·exp(−logVar)), broadcasting.
 * Default reduction: none (sum over the event dimensions yourself).
 */
export function gaussianLogLikelihood(
  x: Tensor,
  meanValue: Tensor,
  logVar: Tensor,
  options?: { readonly reduction?: Reduction },
): Tensor {
  broadcastShapes(
    'gaussianLogLikelihood',
    broadcastShapes('gaussianLogLikelihood', x.shape, meanValue.shape),
    logVar.shape,
  );
  const mahalanobis = mul(square(sub(x, meanValue)), exp(neg(logVar)));
  const ll = mulScalar(addScalar(add(logVar, mahalanobis), LOG_TWO_PI), -0.5);
  return reduce('gaussianLogLikelihood', ll, options?.reduction ?? 'none');
}

/**
 * KL(N(mean1, exp(logVar1)) ‖ N(mean2, exp(logVar2))) elementwise for diagonal Gaussians:
 * ½(logVar2 − logVar1 + (exp(logVar1) + (mean1 − mean2)²)·exp(−logVar2) − 1). Default reduction: none.
 */
export function klDiagonalGaussians(
  mean1: Tensor,
  logVar1: Tensor,
  mean2: Tensor,
  logVar2: Tensor,
  options?: { readonly reduction?: Reduction },
): Tensor {
  const ratio = mul(add(exp(logVar1), square(sub(mean1, mean2))), exp(neg(logVar2)));
  const kl = mulScalar(addScalar(add(sub(logVar2, logVar1), ratio), -1), 0.5);
  return reduce('klDiagonalGaussians', kl, options?.reduction ?? 'none');
}
