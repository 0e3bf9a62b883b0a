import { describe, expect, it } from 'vitest';
import { Rng } from '../src/random/index.js';
import {
  add,
  astype,
  concat,
  conv2d,
  crossEntropy,
  div,
  expand,
  fromArray,
  full,
  gather,
  groupNorm,
  linear,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  mean,
  mul,
  ones,
  permute,
  rand,
  randn,
  reshape,
  scalar,
  select,
  slice,
  softmax,
  stack,
  sub,
  sum,
  Tensor,
  TensorError,
  transpose,
  where,
  zeros,
} from '../src/tensor/index.js';

/** Naive reference product of row-major a [m,k] and b [k,n]. */
function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  }
}

describe('factories and basic properties', () => {
  it('fromArray infers nested shapes and copies data', () => {
    const src = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const t = fromArray(src);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float64');
    expect(t.toArray()).toEqual(src);
    src[0][0] = 99;
    expect(t.data[0]).toBe(1);
  });

  it('fromArray accepts a flat array with an explicit shape and rejects a mismatch', () => {
    expect(fromArray([1, 2, 3, 4], [2, 2]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(() => fromArray([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2,2\]/);
    expect(() => fromArray([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('zeros/ones/full/scalar and item()', () => {
    expect(Array.from(zeros([2, 2]).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ones([3]).data)).toEqual([1, 1, 1]);
    expect(Array.from(full([2], 7).data)).toEqual([7, 7]);
    expect(scalar(3.5).item()).toBe(3.5);
    expect(scalar(3.5).shape).toEqual([]);
    expect(() => ones([2]).item()).toThrow(TensorError);
  });

  it('randn and rand are reproducible from the seed and respect the range', () => {
    const a = randn([100], new Rng(7));
    const b = randn([100], new Rng(7));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const u = rand([1000], new Rng(3), { low: -2, high: 5 });
    for (const v of u.data) {
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThan(5);
    }
    const mu = mean(randn([20000], new Rng(1))).item();
    expect(Math.abs(mu)).toBeLessThan(0.05);
  });

  it('the constructor rejects a data/shape size mismatch with a code', () => {
    try {
      new Tensor(new Float64Array(5), [2, 3]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TensorError);
      expect((e as TensorError).code).toBe('SHAPE_MISMATCH');
      expect((e as Error).message).toContain('[2,3]');
    }
  });

  it('clone copies, detach shares', () => {
    const t = fromArray([1, 2, 3]);
    const c = t.clone();
    const d = t.detach();
    t.data[0] = 10;
    expect(c.data[0]).toBe(1);
    expect(d.data[0]).toBe(10);
  });
});

describe('views', () => {
  it('reshape shares storage in O(1) and infers -1', () => {
    const t = fromArray([1, 2, 3, 4, 5, 6]);
    const r = reshape(t, [2, -1]);
    expect(r.shape).toEqual([2, 3]);
    expect(r.data).toBe(t.data);
    t.data[5] = 60;
    expect(r.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 60],
    ]);
    expect(() => reshape(t, [4, -1])).toThrow(/cannot reshape \[6\]/);
  });

  it('transpose and permute are strided views until materialised', () => {
    const t = fromArray([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const tt = transpose(t);
    expect(tt.isContiguous).toBe(false);
    expect(tt.shape).toEqual([3, 2]);
    expect(tt.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(tt.isContiguous).toBe(true);
    const x = reshape(fromArray(Array.from({ length: 24 }, (_, i) => i)), [2, 3, 4]);
    const p = permute(x, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    // p[k, i, j] = x[i, j, k]
    const pa = p.toArray() as number[][][];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(pa[k][i][j]).toBe(i * 12 + j * 4 + k);
  });

  it('matmul consumes a transposed view without changing results', () => {
    const rng = new Rng(2);
    const a = randn([5, 4], rng);
    const b = randn([5, 3], rng);
    const view = transpose(a); // [4,5]
    const out = matmul(view, b);
    expect(view.isContiguous).toBe(false); // consumed through the transposition flag
    const at = transpose(a).clone();
    expectClose(out.data, naiveMatmul(at.data, b.data, 4, 5, 3));
  });

  it('leafView parameters share one flat vector and gradients land in one flat gradient vector', () => {
    const theta = new Float64Array([1, 2, 3, 4, 5]);
    const gradFlat = new Float64Array(5);
    const w = Tensor.leafView(theta.subarray(0, 3), [3], gradFlat.subarray(0, 3));
    const b = Tensor.leafView(theta.subarray(3, 5), [2], gradFlat.subarray(3, 5));
    theta[0] = 10;
    expect(w.data[0]).toBe(10);
    const loss = add(sum(mul(w, w)), sum(mul(b, 3)));
    loss.backward();
    expect(Array.from(gradFlat)).toEqual([20, 4, 6, 3, 3]);
    expect(w.grad?.data.buffer).toBe(gradFlat.buffer);
    // accumulation, then zeroing in place
    sum(w).backward();
    expect(Array.from(gradFlat)).toEqual([21, 5, 7, 3, 3]);
    w.zeroGrad();
    b.zeroGrad();
    expect(Array.from(gradFlat)).toEqual([0, 0, 0, 0, 0]);
    expect(w.grad?.data[0]).toBe(0);
  });
});

describe('broadcasting elementwise ops', () => {
  it('[3,1] + [1,4] → [3,4]', () => {
    const a = fromArray([[1], [2], [3]]);
    const b = fromArray([[10, 20, 30, 40]]);
    const c = add(a, b);
    expect(c.shape).toEqual([3, 4]);
    expect(c.toArray()).toEqual([
      [11, 21, 31, 41],
      [12, 22, 32, 42],
      [13, 23, 33, 43],
    ]);
  });

  it('[2,3,4] * [4] and [2,1,4] / [3,1]', () => {
    const rng = new Rng(4);
    const x = randn([2, 3, 4], rng);
    const v = randn([4], rng);
    const y = mul(x, v);
    for (let i = 0; i < 24; i++) expect(y.data[i]).toBe(x.data[i] * v.data[i % 4]);
    const p = randn([2, 1, 4], rng);
    const q = randn([3, 1], rng);
    const r = div(p, q);
    expect(r.shape).toEqual([2, 3, 4]);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 4; k++) expect(r.data[i * 12 + j * 4 + k]).toBe(p.data[i * 4 + k] / q.data[j]);
  });

  it('numbers on either side', () => {
    const x = fromArray([1, 2, 4]);
    expect(Array.from(sub(1, x).data)).toEqual([0, -1, -3]);
    expect(Array.from(div(8, x).data)).toEqual([8, 4, 2]);
    expect(Array.from(add(x, 1).data)).toEqual([2, 3, 5]);
  });

  it('non-broadcastable shapes throw NOT_BROADCASTABLE naming op and shapes', () => {
    try {
      add(zeros([2, 3]), zeros([4]));
      expect.unreachable();
    } catch (e) {
      expect((e as TensorError).code).toBe('NOT_BROADCASTABLE');
      expect((e as Error).message).toMatch(/^add: shapes \[2,3\] and \[4\] are not broadcastable/);
    }
  });

  it('mixing dtypes throws DTYPE_MISMATCH', () => {
    const a = zeros([2]);
    const b = zeros([2], { dtype: 'float32' });
    expect(() => mul(a, b)).toThrow(expect.objectContaining({ code: 'DTYPE_MISMATCH' }));
    expect(() => mul(a, b)).toThrow(/mul: cannot mix float64 \[2\] and float32 \[2\]/);
  });

  it('where selects and expand broadcasts', () => {
    const c = fromArray([1, 0, 1]);
    expect(Array.from(where(c, fromArray([1, 2, 3]), 0).data)).toEqual([1, 0, 3]);
    expect(expand(fromArray([[1], [2]]), [2, 3]).toArray()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
  });
});

describe('float32 option', () => {
  it('keeps float32 through ops and gradients', () => {
    const x = fromArray([0.1, 0.2, 0.3], undefined, { dtype: 'float32', requiresGrad: true });
    expect(x.data).toBeInstanceOf(Float32Array);
    const y = sum(mul(x, x));
    expect(y.dtype).toBe('float32');
    y.backward();
    expect(x.grad?.data).toBeInstanceOf(Float32Array);
    expect(x.grad?.data[1]).toBeCloseTo(0.4, 6);
    const d = astype(x, 'float64');
    expect(d.dtype).toBe('float64');
    expect(d.data[0]).toBe(Math.fround(0.1));
  });
});

describe('reductions', () => {
  const x = reshape(fromArray(Array.from({ length: 24 }, (_, i) => (i * 7) % 11)), [2, 3, 4]);
  const at = (i: number, j: number, k: number) => x.data[i * 12 + j * 4 + k];

  it('sum over each axis, several axes, all, with keepdim', () => {
    const s0 = sum(x, 0);
    expect(s0.shape).toEqual([3, 4]);
    for (let j = 0; j < 3; j++)
      for (let k = 0; k < 4; k++) expect(s0.data[j * 4 + k]).toBe(at(0, j, k) + at(1, j, k));
    const s1 = sum(x, 1, true);
    expect(s1.shape).toEqual([2, 1, 4]);
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 4; k++) expect(s1.data[i * 4 + k]).toBe(at(i, 0, k) + at(i, 1, k) + at(i, 2, k));
    const s2 = sum(x, -1);
    expect(s2.shape).toEqual([2, 3]);
    const s02 = sum(x, [0, 2]);
    expect(s02.shape).toEqual([3]);
    let total = 0;
    for (const v of x.data) total += v;
    expect(sum(x).item()).toBe(total);
    expect(sum(x).shape).toEqual([]);
    expect(s02.data[0] + s02.data[1] + s02.data[2]).toBe(total);
    expect(mean(x, [0, 1, 2]).item()).toBeCloseTo(total / 24, 12);
  });

  it('max over an axis', () => {
    const m = max(x, 1);
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 4; k++)
        expect(m.data[i * 4 + k]).toBe(Math.max(at(i, 0, k), at(i, 1, k), at(i, 2, k)));
    expect(max(x).item()).toBe(Math.max(...x.data));
  });

  it('rejects bad axes', () => {
    expect(() => sum(x, 3)).toThrow(/sum: axis 3 is out of range for a tensor of shape \[2,3,4\]/);
    expect(() => sum(x, [1, 1])).toThrow(/repeated/);
  });
});

describe('matrix products', () => {
  it('2-d products of several shapes agree with the naive product (all kernel paths)', () => {
    const rng = new Rng(5);
    for (const [m, k, n] of [
      [1, 64, 64],
      [3, 5, 7],
      [16, 2, 64],
      [17, 33, 9],
      [64, 64, 64],
      [130, 70, 3],
    ]) {
      const a = randn([m, k], rng);
      const b = randn([k, n], rng);
      expectClose(matmul(a, b).data, naiveMatmul(a.data, b.data, m, k, n), 1e-12);
      expectClose(
        matmul(transpose(transpose(a).clone()), b).data,
        naiveMatmul(a.data, b.data, m, k, n),
        1e-12,
      );
    }
  });

  it('batched with broadcast batch dimensions and 1-d operands', () => {
    const rng = new Rng(6);
    const a = randn([2, 1, 3, 4], rng);
    const b = randn([3, 4, 5], rng);
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 3, 3, 5]);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const ref = naiveMatmul(
          a.data.subarray(i * 12, i * 12 + 12),
          b.data.subarray(j * 20, j * 20 + 20),
          3,
          4,
          5,
        );
        expectClose(c.data.subarray((i * 3 + j) * 15, (i * 3 + j) * 15 + 15), ref);
      }
    const v = randn([4], rng);
    const mv = matmul(randn([3, 4], new Rng(1)), v);
    expect(mv.shape).toEqual([3]);
    expect(matmul(v, randn([4, 2], rng)).shape).toEqual([2]);
    expect(matmul(v, v).shape).toEqual([]);
  });

  it('linear matches x Wᵀ + b, including leading batch dims', () => {
    const rng = new Rng(8);
    const x = randn([2, 3, 5], rng);
    const w = randn([4, 5], rng);
    const b = randn([4], rng);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([2, 3, 4]);
    const ref = add(matmul(x, transpose(w)), b);
    expectClose(y.data, ref.data);
  });

  it('shape errors name the op and shapes', () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(
      /matmul: inner dimensions differ: \[2,3\] @ \[4,5\]/,
    );
    expect(() => linear(zeros([2, 3]), zeros([4, 5]))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', op: 'linear' }),
    );
  });
});

describe('indexing and joining', () => {
  const x = reshape(fromArray(Array.from({ length: 12 }, (_, i) => i)), [3, 4]);
  it('slice, select, concat, stack, gather', () => {
    expect(slice(x, 1, 1, 3).toArray()).toEqual([
      [1, 2],
      [5, 6],
      [9, 10],
    ]);
    expect(slice(x, 0, -1).toArray()).toEqual([[8, 9, 10, 11]]);
    expect(select(x, 0, 1).toArray()).toEqual([4, 5, 6, 7]);
    expect(concat([x, x], 0).shape).toEqual([6, 4]);
    expect(concat([slice(x, 1, 0, 1), slice(x, 1, 3)], 1).toArray()).toEqual([
      [0, 3],
      [4, 7],
      [8, 11],
    ]);
    expect(stack([x, x], 1).shape).toEqual([3, 2, 4]);
    expect(gather(x, 1, [3, 0, 2]).toArray()).toEqual([[3], [4], [10]]);
    expect(() => slice(x, 1, 2, 9)).toThrow(expect.objectContaining({ code: 'INDEX_OUT_OF_RANGE' }));
    expect(() => gather(x, 1, [4, 0, 0])).toThrow(/gather: index 4 at flat position 0/);
    expect(() => concat([x, zeros([3, 2])], 0)).toThrow(
      /concat: shapes \[3,4\], \[3,2\] differ outside axis 0/,
    );
  });
});

describe('conv2d, group norm and log-domain ops', () => {
  it('conv2d matches a direct loop (stride 2, padding 1, bias)', () => {
    const rng = new Rng(9);
    const x = randn([2, 3, 5, 6], rng);
    const w = randn([4, 3, 3, 3], rng);
    const b = randn([4], rng);
    const y = conv2d(x, w, b, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([2, 4, 3, 3]);
    const X = (n: number, c: number, i: number, j: number) =>
      i < 0 || j < 0 || i >= 5 || j >= 6 ? 0 : x.data[((n * 3 + c) * 5 + i) * 6 + j];
    for (let n = 0; n < 2; n++)
      for (let o = 0; o < 4; o++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            let s = b.data[o];
            for (let c = 0; c < 3; c++)
              for (let u = 0; u < 3; u++)
                for (let v = 0; v < 3; v++)
                  s += w.data[((o * 3 + c) * 3 + u) * 3 + v] * X(n, c, 2 * i - 1 + u, 2 * j - 1 + v);
            expect(y.data[((n * 4 + o) * 3 + i) * 3 + j]).toBeCloseTo(s, 12);
          }
    expect(() => conv2d(x, randn([4, 2, 3, 3], rng))).toThrow(
      /conv2d: expected input \[N, C, H, W\] and weight \[O, C, kh, kw\] with equal C/,
    );
  });

  it('group norm normalises each group to zero mean and unit variance', () => {
    const x = randn([2, 6, 3, 3], new Rng(10), { mean: 3, std: 2 });
    const y = groupNorm(x, 3, { eps: 0 });
    for (let n = 0; n < 2; n++)
      for (let g = 0; g < 3; g++) {
        const vals = Array.from(y.data).slice((n * 6 + g * 2) * 9, (n * 6 + g * 2 + 2) * 9);
        const mu = vals.reduce((s, v) => s + v, 0) / vals.length;
        const v = vals.reduce((s, u) => s + (u - mu) ** 2, 0) / vals.length;
        expect(Math.abs(mu)).toBeLessThan(1e-12);
        expect(v).toBeCloseTo(1, 10);
      }
    expect(() => groupNorm(x, 4)).toThrow(/numGroups 4 must be a positive divisor of the 6 channels/);
  });

  it('logsumexp is stable and softmax rows sum to 1', () => {
    const x = fromArray([
      [1000, 1000],
      [-1000, 0],
    ]);
    const l = logSumExp(x, 1);
    expect(l.data[0]).toBeCloseTo(1000 + Math.log(2), 10);
    expect(l.data[1]).toBeCloseTo(0, 10);
    const s = softmax(x);
    expect(s.data[0] + s.data[1]).toBeCloseTo(1, 14);
    expect(Math.exp(logSoftmax(x).data[2])).toBe(0);
    expect(logSumExp(fromArray([-Infinity, -Infinity])).item()).toBe(-Infinity);
  });

  it('cross-entropy equals the mean negative log-probability and rejects bad labels', () => {
    const logits = fromArray([
      [2, 1, 0],
      [0, 0, 3],
    ]);
    const ls = logSoftmax(logits, 1).data;
    const ce = crossEntropy(logits, [0, 2]).item();
    expect(ce).toBeCloseTo(-(ls[0] + ls[5]) / 2, 14);
    for (const bad of [
      [0, Number.NaN],
      [0, 3],
      [0, 1.5],
      [-1, 0],
    ]) {
      try {
        crossEntropy(logits, bad);
        expect.unreachable();
      } catch (e) {
        expect((e as TensorError).code).toBe('INVALID_LABEL');
        expect((e as Error).message).toMatch(
          /crossEntropy: label .* at position \d is not an integer class in \[0, 3\)/,
        );
      }
    }
  });
});
