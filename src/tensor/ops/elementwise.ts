/**
 * Elementwise operations with NumPy broadcasting, and their vector–Jacobian products.
 *
 * Each VJP has two paths. With grad mode on (backward with `createGraph`), it is written with these same
 * differentiable operations, so derivatives of any order follow. With grad mode off it calls one fused kernel
 * (`unaryBackwardKernel`) that computes g·f'(x) in a single pass without intermediate tensors.
 */
import { gradMode, type Node, record } from '../../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import {
  BINARY_ADD,
  BINARY_DIV,
  BINARY_MUL,
  BINARY_POW,
  BINARY_SUB,
  binaryBroadcast,
  binaryRun,
  type TensorData,
  UNARY_ABS,
  UNARY_ADD_SCALAR,
  UNARY_COS,
  UNARY_ELU,
  UNARY_EXP,
  UNARY_LOG,
  UNARY_MUL_SCALAR,
  UNARY_NEG,
  UNARY_POW_SCALAR,
  UNARY_RDIV_SCALAR,
  UNARY_RELU,
  UNARY_RSUB_SCALAR,
  UNARY_SIGMOID,
  UNARY_SIGN,
  UNARY_SIN,
  UNARY_SOFTPLUS,
  UNARY_SQRT,
  UNARY_SQUARE,
  UNARY_STEP,
  UNARY_TANH,
  unaryBackwardKernel,
  unaryKernel,
  whereKernel,
} from '../kernels.js';
import { broadcastShapes, sameShape, shapeSize } from '../shape.js';
import { allocLike, checkSameDtype, type DType, Tensor } from '../tensor.js';
import { expand, sumTo } from './reduce.js';

// ---------------------------------------------------------------------------------------------------------
// Binary operations

function binary(
  op: string,
  kind: number,
  a: Tensor,
  b: Tensor,
  vjp: (node: Node, g: Tensor) => (Tensor | null)[],
) {
  if (a._data.constructor !== b._data.constructor) checkSameDtype(op, a, b);
  const ad = a.data;
  const bd = b.data;
  let out: Tensor;
  if (sameShape(a.shape, b.shape)) {
    const o = allocLike(ad, a.size);
    binaryRun(kind, o, 0, ad, 0, 1, bd, 0, 1, a.size);
    out = new Tensor(o, a.shape);
  } else {
    const shape = broadcastShapes(op, a.shape, b.shape);
    const o = allocLike(ad, shapeSize(shape));
    binaryBroadcast(kind, ad, a.shape, bd, b.shape, o, shape);
    out = new Tensor(o, shape);
  }
  if (gradMode.enabled && (a.requiresGrad || b.requiresGrad)) record(out, op, vjp, [a, b], null, null);
  return out;
}

function addVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  return [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(g, b.shape) : null];
}

function subVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  return [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(neg(g), b.shape) : null];
}

function mulVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  return [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ];
}

function divVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  const ga = div(g, b);
  // d(a/b)/db = -(a/b)/b, so the b-cotangent is -(g/b)·out.
  return [
    a.requiresGrad ? sumTo(ga, a.shape) : null,
    b.requiresGrad ? sumTo(neg(mul(ga, node.output)), b.shape) : null,
  ];
}

function powVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  return [
    a.requiresGrad ? sumTo(mul(g, mul(b, pow(a, addScalar(b, -1)))), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, mul(node.output, log(a))), b.shape) : null,
  ];
}

function toTensor(op: string, v: Tensor | number, like: Tensor): Tensor {
  if (typeof v === 'number') return scalarLike(v, like);
  if (!(v instanceof Tensor)) {
    throw new TensorError('INVALID_ARGUMENT', op, `expected a Tensor or a number, got ${typeof v}`);
  }
  return v;
}

/** A 0-d constant with the dtype of `like`. */
export function scalarLike(v: number, like: Tensor): Tensor {
  const d = like._data instanceof Float32Array ? new Float32Array(1) : new Float64Array(1);
  d[0] = v;
  return new Tensor(d, []);
}

function bothNumbers(op: string): never {
  throw new TensorError('INVALID_ARGUMENT', op, 'at least one operand must be a Tensor');
}

/** a + b, broadcasting. Either operand may be a number. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') return typeof a === 'number' ? bothNumbers('add') : addScalar(a, b);
  if (typeof a === 'number') return addScalar(b, a);
  return binary('add', BINARY_ADD, a, b, addVjp);
}

/** a − b, broadcasting. Either operand may be a number. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') return typeof a === 'number' ? bothNumbers('sub') : addScalar(a, -b);
  if (typeof a === 'number') return rsubScalar(b, a);
  return binary('sub', BINARY_SUB, a, b, subVjp);
}

/** a · b elementwise, broadcasting. Either operand may be a number. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') return typeof a === 'number' ? bothNumbers('mul') : mulScalar(a, b);
  if (typeof a === 'number') return mulScalar(b, a);
  return binary('mul', BINARY_MUL, a, b, mulVjp);
}

/** a / b elementwise, broadcasting. Either operand may be a number. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') return typeof a === 'number' ? bothNumbers('div') : mulScalar(a, 1 / b);
  if (typeof a === 'number') return rdivScalar(b, a);
  return binary('div', BINARY_DIV, a, b, divVjp);
}

/**
 * a ** b elementwise, broadcasting. A number exponent uses a cheaper scalar-power op; the gradient with
 * respect to a tensor exponent involves log(a) and is NaN for a ≤ 0, as in other libraries.
 */
export function pow(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') return typeof a === 'number' ? bothNumbers('pow') : powScalar(a, b);
  const base = toTensor('pow', a, b);
  return binary('pow', BINARY_POW, base, b, powVjp);
}

// ---------------------------------------------------------------------------------------------------------
// Unary operations

function unary(
  op: string,
  kind: number,
  x: Tensor,
  alpha: number,
  vjp: (node: Node, g: Tensor) => (Tensor | null)[],
) {
  const xd = x.data;
  const o = allocLike(xd, x.size);
  unaryKernel(kind, xd, o, x.size, alpha);
  const out = new Tensor(o, x.shape);
  if (gradMode.enabled && x.requiresGrad) record(out, op, vjp, [x], null, alpha);
  return out;
}

/** A constant (never recorded) elementwise function of x, e.g. a derivative mask. */
function constUnary(kind: number, x: Tensor, alpha = 0): Tensor {
  const xd = x.data;
  const o = allocLike(xd, x.size);
  unaryKernel(kind, xd, o, x.size, alpha);
  return new Tensor(o, x.shape);
}

/** Fused g·f'(x) for the no-graph backward path. */
function fused(kind: number, node: Node, g: Tensor): Tensor {
  const x = node.inputs[0];
  const o = allocLike(g.data, g.size);
  unaryBackwardKernel(kind, g.data, x.data, node.output.data, o, g.size, node.aux as number);
  return new Tensor(o, x.shape);
}

function negVjp(_node: Node, g: Tensor): (Tensor | null)[] {
  return [neg(g)];
}
function expVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, node.output) : fused(UNARY_EXP, node, g)];
}
function logVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? div(g, node.inputs[0]) : fused(UNARY_LOG, node, g)];
}
function sqrtVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? div(g, mulScalar(node.output, 2)) : fused(UNARY_SQRT, node, g)];
}
function absVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, constUnary(UNARY_SIGN, node.inputs[0])) : fused(UNARY_ABS, node, g)];
}
function squareVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, mulScalar(node.inputs[0], 2)) : fused(UNARY_SQUARE, node, g)];
}
function sinVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, cos(node.inputs[0])) : fused(UNARY_SIN, node, g)];
}
function cosVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? neg(mul(g, sin(node.inputs[0]))) : fused(UNARY_COS, node, g)];
}
function tanhVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, rsubScalar(square(node.output), 1)) : fused(UNARY_TANH, node, g)];
}
function sigmoidVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const y = node.output;
  return [gradMode.enabled ? mul(g, mul(y, rsubScalar(y, 1))) : fused(UNARY_SIGMOID, node, g)];
}
function softplusVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, sigmoid(node.inputs[0])) : fused(UNARY_SOFTPLUS, node, g)];
}
function reluVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [gradMode.enabled ? mul(g, constUnary(UNARY_STEP, node.inputs[0])) : fused(UNARY_RELU, node, g)];
}
function eluVjp(node: Node, g: Tensor): (Tensor | null)[] {
  if (!gradMode.enabled) return [fused(UNARY_ELU, node, g)];
  // f'(x) = 1 for x > 0, y + alpha otherwise; mixing with a constant 0/1 mask keeps it differentiable.
  const m = constUnary(UNARY_STEP, node.inputs[0]);
  const d = add(m, mul(rsubScalar(m, 1), addScalar(node.output, node.aux as number)));
  return [mul(g, d)];
}
function powScalarVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const p = node.aux as number;
  if (p === 0) return [mulScalar(g, 0)];
  if (!gradMode.enabled) return [fused(UNARY_POW_SCALAR, node, g)];
  const x = node.inputs[0];
  return [mul(g, p === 2 ? mulScalar(x, 2) : mulScalar(powScalar(x, p - 1), p))];
}
function addScalarVjp(_node: Node, g: Tensor): (Tensor | null)[] {
  return [g];
}
function mulScalarVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [mulScalar(g, node.aux as number)];
}
function rsubScalarVjp(_node: Node, g: Tensor): (Tensor | null)[] {
  return [neg(g)];
}
function rdivScalarVjp(node: Node, g: Tensor): (Tensor | null)[] {
  // d(c/x)/dx = -(c/x)/x
  return [neg(div(mul(g, node.output), node.inputs[0]))];
}

/** −x */
export function neg(x: Tensor): Tensor {
  return unary('neg', UNARY_NEG, x, 0, negVjp);
}
/** eˣ */
export function exp(x: Tensor): Tensor {
  return unary('exp', UNARY_EXP, x, 0, expVjp);
}
/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary('log', UNARY_LOG, x, 0, logVjp);
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', UNARY_SQRT, x, 0, sqrtVjp);
}
/** |x|; the derivative at 0 is taken as 0. */
export function abs(x: Tensor): Tensor {
  return unary('abs', UNARY_ABS, x, 0, absVjp);
}
/** x² */
export function square(x: Tensor): Tensor {
  return unary('square', UNARY_SQUARE, x, 0, squareVjp);
}
/** sin x */
export function sin(x: Tensor): Tensor {
  return unary('sin', UNARY_SIN, x, 0, sinVjp);
}
/** cos x */
export function cos(x: Tensor): Tensor {
  return unary('cos', UNARY_COS, x, 0, cosVjp);
}
/** tanh x */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', UNARY_TANH, x, 0, tanhVjp);
}
/** Logistic sigmoid 1/(1+e⁻ˣ), evaluated without overflow. */
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', UNARY_SIGMOID, x, 0, sigmoidVjp);
}
/** log(1+eˣ), evaluated without overflow. */
export function softplus(x: Tensor): Tensor {
  return unary('softplus', UNARY_SOFTPLUS, x, 0, softplusVjp);
}
/** max(x, 0); the derivative at 0 is taken as 0. */
export function relu(x: Tensor): Tensor {
  return unary('relu', UNARY_RELU, x, 0, reluVjp);
}
/** Exponential linear unit: x for x > 0, alpha·(eˣ − 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return unary('elu', UNARY_ELU, x, alpha, eluVjp);
}
/** xᵖ for a number p. */
export function powScalar(x: Tensor, p: number): Tensor {
  return unary('pow', UNARY_POW_SCALAR, x, p, powScalarVjp);
}
/** x + c for a number c. */
export function addScalar(x: Tensor, c: number): Tensor {
  return unary('addScalar', UNARY_ADD_SCALAR, x, c, addScalarVjp);
}
/** x · c for a number c. */
export function mulScalar(x: Tensor, c: number): Tensor {
  return unary('mulScalar', UNARY_MUL_SCALAR, x, c, mulScalarVjp);
}
/** c − x for a number c. */
export function rsubScalar(x: Tensor, c: number): Tensor {
  return unary('rsubScalar', UNARY_RSUB_SCALAR, x, c, rsubScalarVjp);
}
/** c / x for a number c. */
export function rdivScalar(x: Tensor, c: number): Tensor {
  return unary('rdivScalar', UNARY_RDIV_SCALAR, x, c, rdivScalarVjp);
}

// ---------------------------------------------------------------------------------------------------------
// Selection and casting

function whereVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  const cond = node.saved as Tensor;
  const zero = scalarLike(0, g);
  return [
    a.requiresGrad ? sumTo(where(cond, g, zero), a.shape) : null,
    b.requiresGrad ? sumTo(where(cond, zero, g), b.shape) : null,
  ];
}

/**
 * Elementwise selection: `a` where `condition` is non-zero, `b` elsewhere, broadcasting all three. The
 * condition is a constant (no gradient); gradients flow to `a` and `b` only through the selected entries, so
 * it is safe to use with branches that are infinite or NaN where they are not selected.
 */
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const ta = toTensor('where', a, condition);
  const tb = toTensor('where', b, condition);
  checkSameDtype('where', ta, tb);
  const shape = broadcastShapes('where', broadcastShapes('where', condition.shape, ta.shape), tb.shape);
  const c = expand(condition.detach(), shape);
  const ea = sameShape(ta.shape, shape) ? ta : expandConst(ta, shape);
  const eb = sameShape(tb.shape, shape) ? tb : expandConst(tb, shape);
  const n = shapeSize(shape);
  const o = allocLike(ta.data, n);
  whereKernel(c.data, ea.data, eb.data, o, n);
  const out = new Tensor(o, shape);
  if (gradMode.enabled && (ta.requiresGrad || tb.requiresGrad))
    record(out, 'where', whereVjp, [ta, tb], c, null);
  return out;
}

function expandConst(t: Tensor, shape: readonly number[]): Tensor {
  return expand(t.detach(), shape);
}

function castVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [astype(g, node.inputs[0].dtype)];
}

/** Converts to another dtype (a copy); differentiable. Returns `x` itself when the dtype already matches. */
export function astype(x: Tensor, dtype: DType): Tensor {
  if (dtype !== 'float64' && dtype !== 'float32') {
    throw new TensorError(
      'INVALID_ARGUMENT',
      'astype',
      `dtype must be 'float64' or 'float32', got ${String(dtype)}`,
    );
  }
  if (x.dtype === dtype) return x;
  const src = x.data;
  const o: TensorData = dtype === 'float32' ? new Float32Array(x.size) : new Float64Array(x.size);
  o.set(src);
  const out = new Tensor(o, x.shape);
  if (gradMode.enabled && x.requiresGrad) record(out, 'astype', castVjp, [x], null, null);
  return out;
}

/** Throws INVALID_ARGUMENT when any element of `x` is NaN or infinite (used to guard inputs). */
export function assertFinite(op: string, name: string, x: Tensor): void {
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) {
      throw new TensorError(
        'INVALID_ARGUMENT',
        op,
        `${name} ${formatShape(x.shape)} contains a non-finite value (${v}) at flat index ${i}`,
      );
    }
  }
}
