/**
 * First derivatives of every differentiable op against central finite differences (float64, error ≤ 1e-6).
 */
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import {
  abs,
  add,
  addScalar,
  concat,
  conv2d,
  cos,
  crossEntropy,
  div,
  elu,
  exp,
  expand,
  flatten,
  fromArray,
  gather,
  gaussianLogLikelihood,
  groupNorm,
  klDiagonalGaussians,
  linear,
  log,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  mean,
  mseLoss,
  mul,
  mulScalar,
  neg,
  permute,
  pow,
  powScalar,
  rand,
  randn,
  rdivScalar,
  relu,
  reshape,
  rsubScalar,
  scatterAdd,
  select,
  sigmoid,
  sin,
  slice,
  softmax,
  softplus,
  sqrt,
  square,
  squeeze,
  stack,
  sub,
  sum,
  sumTo,
  type Tensor,
  tanh,
  transpose,
  unsqueeze,
  where,
} from '../src/tensor/index.js';

const rng = new Rng(2024);

function check(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], wrt?: number[]): void {
  const r = gradcheck(f, inputs, wrt ? { wrt } : undefined);
  expect(r.ok, r.message).toBe(true);
}

/** Normal entries pushed away from 0 by at least `gap` (for ops with a kink at 0). */
function awayFromZero(shape: number[], gap = 0.1): Tensor {
  const t = randn(shape, rng);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] >= 0 ? d[i] + gap : d[i] - gap;
  return t;
}

const positive = (shape: number[]) => rand(shape, rng, { low: 0.5, high: 2 });

describe('gradcheck: unary elementwise ops', () => {
  const cases: [string, (x: Tensor) => Tensor, () => Tensor][] = [
    ['neg', neg, () => randn([3, 4], rng)],
    ['exp', exp, () => randn([3, 4], rng)],
    ['log', log, () => positive([3, 4])],
    ['sqrt', sqrt, () => positive([3, 4])],
    ['abs', abs, () => awayFromZero([3, 4])],
    ['square', square, () => randn([3, 4], rng)],
    ['sin', sin, () => randn([3, 4], rng)],
    ['cos', cos, () => randn([3, 4], rng)],
    ['tanh', tanh, () => randn([3, 4], rng)],
    ['sigmoid', sigmoid, () => randn([3, 4], rng, { std: 3 })],
    ['softplus', softplus, () => randn([3, 4], rng, { std: 3 })],
    ['relu', relu, () => awayFromZero([3, 4])],
    ['elu', (x) => elu(x, 0.7), () => awayFromZero([3, 4])],
    ['powScalar 3', (x) => powScalar(x, 3), () => randn([3, 4], rng)],
    ['powScalar 0.5', (x) => powScalar(x, 0.5), () => positive([3, 4])],
    ['powScalar 2', (x) => powScalar(x, 2), () => randn([3, 4], rng)],
    ['addScalar', (x) => addScalar(x, 2.5), () => randn([3, 4], rng)],
    ['mulScalar', (x) => mulScalar(x, -1.5), () => randn([3, 4], rng)],
    ['rsubScalar', (x) => rsubScalar(x, 2), () => randn([3, 4], rng)],
    ['rdivScalar', (x) => rdivScalar(x, 2), () => positive([3, 4])],
  ];
  for (const [name, f, make] of cases) it(name, () => check(f, [make()]));
});

describe('gradcheck: binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [
      [3, 4],
      [3, 4],
    ],
    [
      [3, 1],
      [1, 4],
    ],
    [[2, 3, 4], [4]],
    [[4], [2, 3, 4]],
    [
      [2, 1, 4],
      [3, 1],
    ],
    [[2, 3], []],
  ];
  for (const [sa, sb] of shapes) {
    const tag = `[${sa}] op [${sb}]`;
    it(`add ${tag}`, () => check(add, [randn(sa, rng), randn(sb, rng)]));
    it(`sub ${tag}`, () => check(sub, [randn(sa, rng), randn(sb, rng)]));
    it(`mul ${tag}`, () => check(mul, [randn(sa, rng), randn(sb, rng)]));
    it(`div ${tag}`, () => check(div, [randn(sa, rng), positive(sb)]));
    it(`pow ${tag}`, () => check(pow, [positive(sa), randn(sb, rng)]));
  }
  it('where (gradients flow only to the selected branch)', () => {
    const cond = fromArray([1, 0, 0, 1, 1, 0]).reshape([2, 3]);
    check((a, b) => where(cond, a, b), [randn([2, 3], rng), randn([3], rng)]);
  });
});

describe('gradcheck: reductions and broadcasting helpers', () => {
  for (const axis of [0, 1, 2]) {
    it(`sum axis ${axis}`, () => check((x) => sum(x, axis), [randn([2, 3, 4], rng)]));
    it(`sum axis ${axis} keepdim`, () => check((x) => sum(x, axis, true), [randn([2, 3, 4], rng)]));
    it(`mean axis ${axis}`, () => check((x) => mean(x, axis), [randn([2, 3, 4], rng)]));
    it(`max axis ${axis}`, () => check((x) => max(x, axis), [randn([2, 3, 4], rng)]));
  }
  it('sum over several axes and all axes', () => {
    check((x) => sum(x, [0, 2]), [randn([2, 3, 4], rng)]);
    check((x) => sum(x), [randn([2, 3, 4], rng)]);
    check((x) => mean(x), [randn([2, 3, 4], rng)]);
    check((x) => max(x, [1, 2], true), [randn([2, 3, 4], rng)]);
  });
  it('expand and sumTo', () => {
    check((x) => expand(x, [2, 3, 4]), [randn([3, 1], rng)]);
    check((x) => sumTo(x, [3, 1]), [randn([2, 3, 4], rng)]);
  });
});

describe('gradcheck: products', () => {
  it('matmul 2-d', () => check(matmul, [randn([3, 5], rng), randn([5, 4], rng)]));
  it('matmul batched with broadcast batch dims', () =>
    check(matmul, [randn([2, 1, 3, 4], rng), randn([3, 4, 2], rng)]));
  it('matmul 2-d by batched', () => check(matmul, [randn([3, 4], rng), randn([2, 4, 5], rng)]));
  it('matmul with 1-d operands', () => {
    check(matmul, [randn([4], rng), randn([4, 3], rng)]);
    check(matmul, [randn([3, 4], rng), randn([4], rng)]);
    check(matmul, [randn([4], rng), randn([4], rng)]);
  });
  it('matmul through transposed views', () => {
    check((a, b) => matmul(transpose(a), transpose(b)), [randn([5, 3], rng), randn([4, 5], rng)]);
    check((a, b) => matmul(transpose(a), b), [randn([2, 5, 3], rng), randn([2, 5, 4], rng)]);
  });
  it('linear with and without bias, with leading batch dims', () => {
    check((x, w, b) => linear(x, w, b), [randn([2, 3, 4], rng), randn([5, 4], rng), randn([5], rng)]);
    check((x, w) => linear(x, w), [randn([6, 4], rng), randn([2, 4], rng)]);
    check((x, w, b) => linear(x, w, b), [randn([4], rng), randn([3, 4], rng), randn([3], rng)]);
    check((x, w) => linear(x, transpose(w)), [randn([3, 4], rng), randn([4, 5], rng)]);
  });
  it('conv2d with stride 2, padding 1 and bias', () => {
    check(
      (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }),
      [randn([2, 2, 5, 5], rng), randn([3, 2, 3, 3], rng), randn([3], rng)],
    );
  });
  it('conv2d with stride 1, no padding, non-square kernel', () => {
    check((x, w) => conv2d(x, w), [randn([1, 2, 4, 5], rng), randn([2, 2, 2, 3], rng)]);
  });
});

describe('gradcheck: shape and indexing ops', () => {
  it('reshape, transpose, permute', () => {
    check((x) => reshape(x, [4, -1]), [randn([2, 3, 2], rng)]);
    check((x) => transpose(x, 0, 2), [randn([2, 3, 4], rng)]);
    check((x) => mul(permute(x, [1, 2, 0]), randn([3, 4, 2], new Rng(1))), [randn([2, 3, 4], rng)]);
  });
  it('flatten, squeeze, unsqueeze', () => {
    check((x) => flatten(x), [randn([2, 3, 2], rng)]);
    check((x) => unsqueeze(squeeze(x, 1), -1), [randn([2, 1, 3], rng)]);
  });
  it('slice and select', () => {
    check((x) => slice(x, 1, 1, 3), [randn([2, 4, 3], rng)]);
    check((x) => select(x, 2, -1), [randn([2, 4, 3], rng)]);
  });
  it('concat and stack', () => {
    check((a, b) => concat([a, b], 1), [randn([2, 3], rng), randn([2, 1], rng)]);
    check((a, b) => stack([a, b], 2), [randn([2, 3], rng), randn([2, 3], rng)]);
  });
  it('gather and scatterAdd', () => {
    check((x) => gather(x, 1, [2, 0, 0, 1, 1, 1]), [randn([3, 3], rng)]);
    check((x) => scatterAdd(x, 0, [1, 0, 1, 1, 2, 1], 3), [randn([2, 3], rng)]);
  });
});

describe('gradcheck: normalisation and losses', () => {
  it('group norm with affine parameters', () => {
    check(
      (x, w, b) => groupNorm(x, 2, { weight: w, bias: b }),
      [randn([2, 4, 2, 3], rng), randn([4], rng), randn([4], rng)],
    );
  });
  it('softmax, logsumexp, log-softmax', () => {
    check((x) => softmax(x, 1), [randn([3, 4], rng)]);
    check((x) => logSumExp(x, [0, 1]), [randn([3, 4], rng)]);
    check((x) => logSoftmax(x, 0), [randn([3, 4], rng)]);
  });
  it('cross-entropy with integer labels', () => {
    check((x) => crossEntropy(x, [2, 0, 1]), [randn([3, 4], rng)]);
    check((x) => crossEntropy(x, [3, 1, 1], { reduction: 'sum' }), [randn([3, 4], rng)]);
  });
  it('MSE', () => {
    check((a, b) => mseLoss(a, b), [randn([3, 4], rng), randn([3, 4], rng)]);
    check((a, b) => mseLoss(a, b, { reduction: 'sum' }), [randn([3, 4], rng), randn([3, 4], rng)]);
    check((a, b) => mseLoss(a, b), [randn([3, 4], rng), randn([4], rng)]);
    check((a, b) => mseLoss(a, b, { reduction: 'none' }), [randn([2, 3], rng), randn([2, 3], rng)]);
  });
  it('Gaussian log-likelihood', () => {
    check(
      (x, m, lv) => gaussianLogLikelihood(x, m, lv),
      [randn([3, 2], rng), randn([3, 2], rng), randn([2], rng)],
    );
  });
  it('KL between diagonal Gaussians', () => {
    check(
      (m1, l1, m2, l2) => klDiagonalGaussians(m1, l1, m2, l2, { reduction: 'sum' }),
      [randn([3, 2], rng), randn([3, 2], rng), randn([3, 2], rng), randn([2], rng)],
    );
  });
});

describe('gradcheck itself', () => {
  it('detects a wrong gradient', () => {
    // x·stopgrad(x) has value x² but reverse-mode derivative x, half the true 2x: the checker must notice.
    const r = gradcheck((x) => mul(x, x.detach()), [fromArray([0.7, -0.3])]);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/gradcheck failed: input 0 entry \d/);
    expect(r.worst.numeric).toBeCloseTo(2 * r.worst.analytic, 6);
  });
});
