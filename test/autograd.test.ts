/** Semantics of the autodiff engine: grad mode, graph release, accumulation, gradient buffers, errors. */
import { describe, expect, it } from 'vitest';
import {
  backward,
  grad,
  gradients,
  isGradEnabled,
  noGrad,
  valueAndGrad,
  vjp,
  zeroGrad,
} from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import {
  add,
  astype,
  exp,
  fromArray,
  linear,
  matmul,
  mul,
  ones,
  randn,
  sum,
  Tensor,
  type TensorError,
  tanh,
} from '../src/tensor/index.js';

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as TensorError).code, message: (e as Error).message };
  }
  throw new Error('expected a throw');
}

describe('grad mode', () => {
  it('noGrad stops recording and restores the mode, also on exceptions', () => {
    const x = fromArray([1, 2], undefined, { requiresGrad: true });
    const y = noGrad(() => mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    expect(mul(x, x).requiresGrad).toBe(true);
  });

  it('grad() still differentiates inside a noGrad scope', () => {
    const [g] = noGrad(() => grad((x: Tensor) => sum(mul(x, x)))(fromArray([3])));
    expect(g.data[0]).toBe(6);
  });
});

describe('backward', () => {
  it('accumulates into .grad over several passes and through shared subexpressions', () => {
    const x = fromArray([2, -1], undefined, { requiresGrad: true });
    const y = sum(add(mul(x, x), x)); // d/dx = 2x + 1
    y.backward();
    expect(Array.from((x.grad as Tensor).data)).toEqual([5, -1]);
    sum(mul(x, 3)).backward();
    expect(Array.from((x.grad as Tensor).data)).toEqual([8, 2]);
    zeroGrad([x]);
    expect(x.grad).toBeNull();
  });

  it('only leaves receive .grad; tensors without requiresGrad get none', () => {
    const x = fromArray([1, 2], undefined, { requiresGrad: true });
    const c = fromArray([3, 4]);
    const h = mul(x, c);
    sum(h).backward();
    expect(h.grad).toBeNull();
    expect(c.grad).toBeNull();
    expect(Array.from((x.grad as Tensor).data)).toEqual([3, 4]);
  });

  it('a second backward through a released graph throws GRAPH_RELEASED naming the op', () => {
    const x = fromArray([0.5], undefined, { requiresGrad: true });
    const y = sum(tanh(x));
    y.backward();
    const err = codeOf(() => y.backward());
    expect(err.code).toBe('GRAPH_RELEASED');
    expect(err.message).toMatch(/backward: .*the 'sum' node producing \[\] was released.*retainGraph: true/);
  });

  it('retainGraph allows a second backward (gradients add up)', () => {
    const x = fromArray([0.5], undefined, { requiresGrad: true });
    const y = sum(exp(x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect((x.grad as Tensor).data[0]).toBeCloseTo(2 * Math.exp(0.5), 14);
  });

  it('non-scalar outputs need a seed of the output shape', () => {
    const x = fromArray([1, 2, 3], undefined, { requiresGrad: true });
    const y = mul(x, x);
    const err = codeOf(() => y.backward());
    expect(err.code).toBe('NON_SCALAR_BACKWARD');
    expect(err.message).toContain('[3]');
    expect(codeOf(() => y.backward(ones([2]))).message).toMatch(
      /seed gradient \[2\] does not match the output shape \[3\]/,
    );
    y.backward(fromArray([1, 0, -1]));
    expect(Array.from((x.grad as Tensor).data)).toEqual([2, 0, -6]);
  });

  it('backward on a tensor that does not require grad throws NOT_DIFFERENTIABLE', () => {
    const err = codeOf(() => sum(fromArray([1, 2])).backward());
    expect(err.code).toBe('NOT_DIFFERENTIABLE');
  });

  it('gradients() returns cotangents without touching .grad, zeros for unused inputs', () => {
    const x = fromArray([1, 2], undefined, { requiresGrad: true });
    const u = fromArray([5], undefined, { requiresGrad: true });
    const y = sum(mul(x, x));
    const [gx, gu] = gradients(y, [x, u]);
    expect(Array.from(gx.data)).toEqual([2, 4]);
    expect(Array.from(gu.data)).toEqual([0]);
    expect(x.grad).toBeNull();
  });

  it('gradients() with respect to an intermediate tensor', () => {
    const x = fromArray([1, 2], undefined, { requiresGrad: true });
    const h = mul(x, x);
    const y = sum(mul(h, h)); // dy/dh = 2h
    const [gh, gx] = gradients(y, [h, x]);
    expect(Array.from(gh.data)).toEqual([2, 8]);
    expect(Array.from(gx.data)).toEqual([4, 32]); // 4x³
  });
});

describe('flat parameter and gradient vectors', () => {
  it.each([[[5, 3]], [[1, 3]], [[3]]])(
    'linear layers accumulate straight into the flat gradient (x %j)',
    (xShape) => {
      const rng = new Rng(3);
      const theta = randn([4 * 3 + 4 + 2 * 4], rng).data as Float64Array;
      const gflat = new Float64Array(theta.length);
      const w1 = Tensor.leafView(theta.subarray(0, 12), [4, 3], gflat.subarray(0, 12));
      const b1 = Tensor.leafView(theta.subarray(12, 16), [4], gflat.subarray(12, 16));
      const w2 = Tensor.leafView(theta.subarray(16, 24), [2, 4], gflat.subarray(16, 24));
      const x = randn(xShape, rng);
      // w1 enters through two linear ops, so both contributions must land in the same slots.
      const loss = () => sum(mul(sum(linear(tanh(linear(x, w1, b1)), w2), -1), sum(linear(x, w1), -1)));
      const reference = gradients(loss(), [w1, b1, w2]);
      backward(loss());
      const flatRef = [...reference[0].data, ...reference[1].data, ...reference[2].data];
      for (let i = 0; i < flatRef.length; i++) expect(gflat[i]).toBeCloseTo(flatRef[i], 12);
      // a second pass accumulates, zeroGrad clears in place
      backward(loss());
      expect(gflat[0]).toBeCloseTo(2 * flatRef[0], 12);
      zeroGrad([w1, b1, w2]);
      expect(gflat.every((v) => v === 0)).toBe(true);
      expect(w1.grad?.data.buffer).toBe(gflat.buffer);
    },
  );

  it('leafView rejects a gradient view of the wrong size', () => {
    expect(() => Tensor.leafView(new Float64Array(4), [2, 2], new Float64Array(3))).toThrow(
      /gradView has 3 elements but shape \[2,2\] needs 4/,
    );
  });
});

describe('functional API', () => {
  it('grad, valueAndGrad and vjp', () => {
    const f = (a: Tensor, b: Tensor) => sum(mul(matmul(a, b), 2));
    const a = fromArray([[1, 2]]);
    const b = fromArray([[3], [4]]);
    const [ga, gb] = grad(f)(a, b);
    expect(ga.toArray()).toEqual([[6, 8]]);
    expect(gb.toArray()).toEqual([[2], [4]]);
    const [value] = valueAndGrad(f)(a, b);
    expect(value.item()).toBe(22);
    const [out, pullback] = vjp((x: Tensor) => mul(x, x), fromArray([1, 2, 3]));
    expect(Array.from(out.data)).toEqual([1, 4, 9]);
    expect(Array.from(pullback(fromArray([1, 1, 1]))[0].data)).toEqual([2, 4, 6]);
    expect(Array.from(pullback(fromArray([0, 1, 0]))[0].data)).toEqual([0, 4, 0]);
    expect(a.requiresGrad).toBe(false);
  });

  it('astype is differentiable in both directions', () => {
    const x = fromArray([0.5, -2], undefined, { requiresGrad: true });
    const y = astype(astype(x, 'float32'), 'float64');
    sum(mul(y, fromArray([3, 4]))).backward();
    expect(Array.from((x.grad as Tensor).data)).toEqual([3, 4]);
    expect(x.grad?.dtype).toBe('float64');
  });

  it('grad of a non-scalar function throws', () => {
    expect(codeOf(() => grad((x: Tensor) => mul(x, x))(fromArray([1, 2]))).code).toBe('NON_SCALAR_BACKWARD');
  });
});
