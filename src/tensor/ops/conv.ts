/**
 * 2-d convolution (cross-correlation, as in deep-learning libraries) over NCHW batches.
 *
 * It is composed from two mutually adjoint ops, `im2col` (unfold patches into columns) and `col2im` (fold
 * columns back, summing overlaps), and a batched matrix product: W[O, C·kh·kw] @ cols[N, C·kh·kw, Ho·Wo].
 * Because each piece is differentiable and the VJP of im2col is col2im (and vice versa), derivatives of any
 * order come for free.
 */
import { gradMode, type Node, record } from '../../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { type ConvGeometry, col2imKernel, im2colKernel } from '../kernels.js';
import { allocLike, checkSameDtype, Tensor } from '../tensor.js';
import { add } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape } from './shape.js';

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Step between output positions, in both directions. Default 1. */
  readonly stride?: number;
  /** Zero padding on every side. Default 0. */
  readonly padding?: number;
}

function im2colVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [col2im(g, node.aux as ConvGeometry)];
}

function col2imVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [im2col(g, node.aux as ConvGeometry)];
}

function im2col(x: Tensor, geo: ConvGeometry): Tensor {
  const rows = geo.channels * geo.kernelHeight * geo.kernelWidth;
  const l = geo.outHeight * geo.outWidth;
  const o = allocLike(x._data, geo.batch * rows * l);
  im2colKernel(x.data, geo, o);
  const out = new Tensor(o, [geo.batch, rows, l]);
  if (gradMode.enabled && x.requiresGrad) record(out, 'im2col', im2colVjp, [x], null, geo);
  return out;
}

function col2im(cols: Tensor, geo: ConvGeometry): Tensor {
  const o = allocLike(cols._data, geo.batch * geo.channels * geo.height * geo.width);
  col2imKernel(cols.data, geo, o);
  const out = new Tensor(o, [geo.batch, geo.channels, geo.height, geo.width]);
  if (gradMode.enabled && cols.requiresGrad) record(out, 'col2im', col2imVjp, [cols], null, geo);
  return out;
}

/**
 * 2-d convolution: x [N, C, H, W], weight [O, C, kh, kw], bias [O] or null → [N, O, Ho, Wo] with
 * Ho = ⌊(H + 2·padding − kh)/stride⌋ + 1 (likewise Wo).
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options?: Conv2dOptions,
): Tensor {
  const stride = options?.stride ?? 1;
  const padding = options?.padding ?? 0;
  if (!Number.isInteger(stride) || stride < 1 || !Number.isInteger(padding) || padding < 0) {
    throw new TensorError(
      'INVALID_ARGUMENT',
      'conv2d',
      `stride must be a positive integer and padding a non-negative integer; got stride ${stride}, padding ${padding}`,
    );
  }
  const xs = x.shape;
  const ws = weight.shape;
  if (xs.length !== 4 || ws.length !== 4 || xs[1] !== ws[1]) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'conv2d',
      `expected input [N, C, H, W] and weight [O, C, kh, kw] with equal C; got input ${formatShape(xs)} and weight ${formatShape(ws)}`,
    );
  }
  checkSameDtype('conv2d', x, weight);
  const [n, c, h, w] = xs;
  const [o, , kh, kw] = ws;
  const outHeight = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const outWidth = Math.floor((w + 2 * padding - kw) / stride) + 1;
  if (outHeight < 1 || outWidth < 1) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'conv2d',
      `kernel ${kh}x${kw} does not fit input ${formatShape(xs)} with padding ${padding}`,
    );
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== o)) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'conv2d',
      `bias ${formatShape(bias.shape)} does not match ${o} output channels`,
    );
  }
  const geo: ConvGeometry = {
    batch: n,
    channels: c,
    height: h,
    width: w,
    kernelHeight: kh,
    kernelWidth: kw,
    stride,
    padding,
    outHeight,
    outWidth,
  };
  const cols = im2col(x, geo);
  const y = matmul(reshape(weight, [o, c * kh * kw]), cols);
  const out = reshape(y, [n, o, outHeight, outWidth]);
  return bias === null ? out : add(out, reshape(bias, [1, o, 1, 1]));
}
