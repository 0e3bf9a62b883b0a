/**
 * Higher-order derivatives: gradients of gradients against finite differences of first gradients, a
 * Hessian–vector product against the analytic Hessian, and the parameter gradient of a Jacobian trace
 * computed by autodiff (the quantity continuous normalizing flows train on).
 */
import { describe, expect, it } from 'vitest';
import {
  enableGrad,
  grad,
  gradcheck,
  gradgradcheck,
  gradients,
  hvp,
  isGradEnabled,
} from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import {
  abs,
  add,
  conv2d,
  cos,
  crossEntropy,
  div,
  elu,
  exp,
  fromArray,
  groupNorm,
  linear,
  log,
  logSumExp,
  matmul,
  max,
  mean,
  mseLoss,
  mul,
  neg,
  pow,
  powScalar,
  rand,
  randn,
  rdivScalar,
  relu,
  sigmoid,
  sin,
  softmax,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  Tensor,
  tanh,
  transpose,
  zeros,
} from '../src/tensor/index.js';

const rng = new Rng(77);

function check2(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const r = gradgradcheck(f, inputs);
  expect(r.ok, r.message).toBe(true);
}

function awayFromZero(shape: number[]): Tensor {
  const t = randn(shape, rng);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] >= 0 ? d[i] + 0.1 : d[i] - 0.1;
  return t;
}
const positive = (shape: number[]) => rand(shape, rng, { low: 0.5, high: 2 });

describe('second derivatives of elementwise ops', () => {
  const unary: [string, (x: Tensor) => Tensor, () => Tensor][] = [
    ['neg', neg, () => randn([2, 3], rng)],
    ['exp', exp, () => randn([2, 3], rng)],
    ['log', log, () => positive([2, 3])],
    ['sqrt', sqrt, () => positive([2, 3])],
    ['abs', abs, () => awayFromZero([2, 3])],
    ['square', square, () => randn([2, 3], rng)],
    ['sin', sin, () => randn([2, 3], rng)],
    ['cos', cos, () => randn([2, 3], rng)],
    ['tanh', tanh, () => randn([2, 3], rng)],
    ['sigmoid', sigmoid, () => randn([2, 3], rng)],
    ['softplus', softplus, () => randn([2, 3], rng)],
    ['relu', relu, () => awayFromZero([2, 3])],
    ['elu', (x) => elu(x, 1.3), () => awayFromZero([2, 3])],
    ['powScalar 3', (x) => powScalar(x, 3), () => randn([2, 3], rng)],
    ['powScalar -1.5', (x) => powScalar(x, -1.5), () => positive([2, 3])],
    ['rdivScalar', (x) => rdivScalar(x, 3), () => positive([2, 3])],
  ];
  for (const [name, f, make] of unary) it(name, () => check2(f, [make()]));

  it('add, sub, mul, div, pow with broadcasting', () => {
    check2(add, [randn([3, 1], rng), randn([1, 4], rng)]);
    check2(sub, [randn([2, 3], rng), randn([3], rng)]);
    check2(mul, [randn([3, 1], rng), randn([1, 4], rng)]);
    check2(div, [randn([2, 3], rng), positive([3])]);
    check2(pow, [positive([2, 3]), randn([3], rng)]);
  });

  it('mseLoss (fused for same shapes, composed when broadcasting)', () => {
    check2((a, b) => mseLoss(a, b), [randn([3, 2], rng), randn([3, 2], rng)]);
    check2((a, b) => mseLoss(a, b, { reduction: 'sum' }), [randn([3, 2], rng), randn([3, 2], rng)]);
    check2((a, b) => mseLoss(a, b), [randn([3, 2], rng), randn([2], rng)]);
  });
});

describe('second derivatives of products, reductions and composites', () => {
  it('matmul (2-d and batched) and linear', () => {
    check2((a, b) => matmul(a, b), [randn([3, 4], rng), randn([4, 2], rng)]);
    check2((a, b) => matmul(a, b), [randn([2, 3, 4], rng), randn([4, 2], rng)]);
    check2((a, b) => matmul(transpose(a), b), [randn([4, 3], rng), randn([4, 2], rng)]);
    check2((x, w, b) => tanh(linear(x, w, b)), [randn([3, 4], rng), randn([2, 4], rng), randn([2], rng)]);
  });
  it('conv2d', () => {
    check2(
      (x, w, b) => tanh(conv2d(x, w, b, { stride: 2, padding: 1 })),
      [randn([1, 2, 4, 4], rng), randn([2, 2, 3, 3], rng), randn([2], rng)],
    );
  });
  it('reductions, softmax, logsumexp, group norm, cross-entropy', () => {
    check2((x) => square(sum(x, 1)), [randn([2, 3], rng)]);
    check2((x) => square(mean(x, 0)), [randn([2, 3], rng)]);
    check2((x) => square(max(x, 1)), [randn([2, 3], rng)]);
    check2((x) => softmax(x, 1), [randn([2, 3], rng)]);
    check2((x) => logSumExp(x, 1), [randn([2, 3], rng)]);
    check2((x, w) => groupNorm(x, 2, { weight: w }), [randn([2, 4, 3], rng), randn([4], rng)]);
    check2((x) => crossEntropy(x, [1, 0]), [randn([2, 3], rng)]);
  });
});

describe('Hessian–vector products and nested grad', () => {
  it('hvp of a quartic matches the analytic Hessian', () => {
    // f(x) = Σ x_i⁴ + (Σ x_i)²  ⇒  H = diag(12 x_i²) + 2·11ᵀ
    const f = (x: Tensor) => add(sum(powScalar(x, 4)), square(sum(x)));
    const x = fromArray([0.5, -1, 2]);
    const v = fromArray([1, 2, -1]);
    const hv = hvp(f, x, v);
    const sv = 2 * (1 + 2 - 1);
    const expected = [12 * 0.25 * 1 + sv, 12 * 1 * 2 + sv, 12 * 4 * -1 + sv];
    for (let i = 0; i < 3; i++) expect(hv.data[i]).toBeCloseTo(expected[i], 12);
  });

  it('grad of grad of a scalar function (third derivative too)', () => {
    const f = (x: Tensor) => sum(mul(sin(x), x));
    const d1 = (x: Tensor) => grad(f)(x)[0];
    const d2 = (x: Tensor) => grad((z: Tensor) => sum(d1(z)))(x)[0];
    const d3 = (x: Tensor) => grad((z: Tensor) => sum(d2(z)))(x)[0];
    const x = fromArray([0.3, 1.2]);
    // f' = sin + x cos, f'' = 2cos − x sin, f''' = −3 sin − x cos
    for (let i = 0; i < 2; i++) {
      const t = x.data[i];
      expect(d1(x).data[i]).toBeCloseTo(Math.sin(t) + t * Math.cos(t), 12);
      expect(d2(x).data[i]).toBeCloseTo(2 * Math.cos(t) - t * Math.sin(t), 12);
      expect(d3(x).data[i]).toBeCloseTo(-3 * Math.sin(t) - t * Math.cos(t), 12);
    }
  });

  it('backward with createGraph makes .grad differentiable', () => {
    const x = fromArray([1.5, -0.5], undefined, { requiresGrad: true });
    const y = sum(powScalar(x, 3));
    y.backward(undefined, { createGraph: true });
    const g = x.grad as Tensor;
    expect(g.requiresGrad).toBe(true);
    x.zeroGrad();
    sum(g).backward(); // d/dx Σ 3x² = 6x
    expect(Array.from((x.grad as Tensor).data)).toEqual([9, -3]);
  });
});

describe('Jacobian trace gradient (continuous normalizing flow)', () => {
  const dim = 3;
  const hidden = 5;
  const z = randn([1, dim], rng);

  /** tr(∂f/∂z) of f(z) = W2 tanh(W1 z + b1) + b2, computed row by row with reverse-mode autodiff. */
  function autodiffTrace(w1: Tensor, b1: Tensor, w2: Tensor): Tensor {
    const recording = isGradEnabled();
    return enableGrad(() => {
      const zl = new Tensor(z.data, z.shape, true);
      const f = linear(tanh(linear(zl, w1, b1)), w2);
      const terms: Tensor[] = [];
      for (let i = 0; i < dim; i++) {
        const seed = zeros([1, dim]);
        seed.data[i] = 1;
        const [gz] = gradients(f, [zl], seed, { createGraph: recording, retainGraph: true });
        terms.push(sum(mul(gz, seed)));
      }
      return terms.reduce((acc, t) => add(acc, t));
    });
  }

  it('the trace equals tr(W2 diag(1 − h²) W1)', () => {
    const w1 = randn([hidden, dim], rng);
    const b1 = randn([hidden], rng);
    const w2 = randn([dim, hidden], rng);
    const h = tanh(linear(z, w1, b1)).data;
    let expected = 0;
    for (let i = 0; i < dim; i++)
      for (let k = 0; k < hidden; k++)
        expected += w2.data[i * hidden + k] * (1 - h[k] * h[k]) * w1.data[k * dim + i];
    expect(autodiffTrace(w1, b1, w2).item()).toBeCloseTo(expected, 12);
  });

  it('d/dθ of the autodiff trace matches finite differences', () => {
    const r = gradcheck(autodiffTrace, [
      randn([hidden, dim], rng),
      randn([hidden], rng),
      randn([dim, hidden], rng),
    ]);
    expect(r.ok, r.message).toBe(true);
  });
});
