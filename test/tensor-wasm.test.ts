/** The WebAssembly SIMD kernels agree with the scalar kernels and with Math.tanh. */
import { afterAll, describe, expect, it } from 'vitest';
import { backward, gradcheck, gradgradcheck } from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import {
  allocResidentFloat64,
  fromArray,
  linear,
  matmul,
  randn,
  setWasmKernelsEnabled,
  sum,
  Tensor,
  tanh,
  transpose,
  wasmKernelsAvailable,
} from '../src/tensor/index.js';

/** Reference product op(A)·op(B) by the textbook triple loop. */
function naiveProduct(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Float64Array {
  const ad = a.data;
  const bd = b.data;
  const [ar, ac] = a.shape;
  const [br, bc] = b.shape;
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const n = transB ? br : bc;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s += ad[transA ? p * ac + i : i * ac + p] * bd[transB ? j * bc + p : p * bc + j];
      out[i * n + j] = s;
    }
  return out;
}

afterAll(() => {
  setWasmKernelsEnabled(true);
});

describe('WebAssembly SIMD kernels', () => {
  it('are available on Node 20', () => {
    expect(wasmKernelsAvailable).toBe(true);
    expect(setWasmKernelsEnabled(true)).toBe(true);
  });

  it('matrix products agree with the scalar kernels for every layout and awkward sizes', () => {
    const rng = new Rng(11);
    for (const [m, k, n] of [
      [4, 8, 128],
      [17, 33, 9],
      [64, 64, 64],
      [130, 70, 3],
      [3, 40, 50],
      [256, 96, 80],
    ]) {
      const a = randn([m, k], rng);
      const b = randn([k, n], rng);
      const at = transpose(a).clone();
      const bt = transpose(b).clone();
      const products = () => [
        matmul(a, b),
        matmul(transpose(at), b),
        matmul(a, transpose(bt)),
        matmul(transpose(at), transpose(bt)),
        linear(a, bt),
      ];
      setWasmKernelsEnabled(true);
      const fast = products();
      setWasmKernelsEnabled(false);
      const slow = products();
      setWasmKernelsEnabled(true);
      for (let q = 0; q < fast.length; q++) {
        const f = fast[q].data;
        const s = slow[q].data;
        for (let i = 0; i < f.length; i++)
          expect(Math.abs(f[i] - s[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(s[i])));
      }
    }
  });

  it('products with few rows or tiny sizes agree with the textbook loop, in every layout', () => {
    const rng = new Rng(14);
    for (const [m, k, n] of [
      [1, 2, 64],
      [1, 64, 64],
      [1, 64, 2],
      [2, 1, 64],
      [3, 5, 7],
      [1, 3, 3],
      [5, 6, 10],
      [15, 64, 64],
      [16, 12, 9],
      [7, 1, 1],
    ]) {
      const a = randn([m, k], rng);
      const b = randn([k, n], rng);
      const at = transpose(a).clone();
      const bt = transpose(b).clone();
      for (const [wasm, label] of [
        [true, 'wasm'],
        [false, 'scalar'],
      ] as const) {
        setWasmKernelsEnabled(wasm);
        const got = [matmul(a, b), matmul(transpose(at), b), matmul(a, transpose(bt)), linear(a, bt)];
        const want = [
          naiveProduct(a, b, false, false),
          naiveProduct(at, b, true, false),
          naiveProduct(a, bt, false, true),
          naiveProduct(a, bt, false, true),
        ];
        for (let q = 0; q < got.length; q++) {
          const g = got[q].data;
          for (let i = 0; i < g.length; i++)
            expect(Math.abs(g[i] - want[q][i]), `${label} ${m}x${k}x${n} case ${q}`).toBeLessThanOrEqual(
              1e-12 * Math.max(1, Math.abs(want[q][i])),
            );
        }
      }
      setWasmKernelsEnabled(true);
    }
  });

  it('resident storage is zero-filled, and layers on it give the same values and gradients', () => {
    const rng = new Rng(15);
    const r = allocResidentFloat64(1000);
    expect(r.length).toBe(1000);
    expect(r.every((v) => v === 0)).toBe(true);
    const r2 = allocResidentFloat64(3);
    r2[0] = 1;
    expect(r[999]).toBe(0);
    for (const batch of [1, 3, 16]) {
      const w = randn([64, 64], rng, { std: 0.2 });
      const bias = randn([64], rng);
      const x = randn([batch, 64], rng);
      const run = (resident: boolean) => {
        const n = 64 * 64 + 64;
        const theta = resident ? allocResidentFloat64(n) : new Float64Array(n);
        const grad = resident ? allocResidentFloat64(n) : new Float64Array(n);
        theta.set(w.data, 0);
        theta.set(bias.data, 4096);
        const wt = Tensor.leafView(theta.subarray(0, 4096), [64, 64], grad.subarray(0, 4096));
        const bt = Tensor.leafView(theta.subarray(4096), [64], grad.subarray(4096));
        const xt = new Tensor(x.data.slice(), x.shape, true);
        const y = linear(tanh(linear(xt, wt, bt)), wt, bt);
        backward(sum(tanh(y)));
        // Accumulates: a second pass doubles the gradient.
        backward(sum(tanh(linear(tanh(linear(xt, wt, bt)), wt, bt))));
        return { y: Array.from(y.data), grad: Array.from(grad), gx: Array.from(xt.grad?.data ?? []) };
      };
      const plain = run(false);
      const res = run(true);
      for (const key of ['y', 'grad', 'gx'] as const) {
        expect(res[key].length).toBe(plain[key].length);
        for (let i = 0; i < plain[key].length; i++)
          expect(Math.abs(res[key][i] - plain[key][i])).toBeLessThanOrEqual(
            1e-12 * Math.max(1, Math.abs(plain[key][i])),
          );
      }
      expect(plain.grad.some((v) => v !== 0)).toBe(true);
    }
  });

  it('row products at offsets inside batched operands, and tanh across scratch growth, stay exact', () => {
    const rng = new Rng(16);
    // Batched products with one row per entry: each entry reaches the row kernels at a non-zero offset.
    for (const [m, k, n] of [
      [1, 64, 64],
      [1, 20, 18],
      [2, 64, 2],
    ]) {
      const a = randn([3, m, k], rng);
      const b = randn([3, k, n], rng);
      const c = matmul(a, b).data;
      for (let t = 0; t < 3; t++) {
        const at = new Tensor(a.data.slice(t * m * k, (t + 1) * m * k), [m, k]);
        const bt = new Tensor(b.data.slice(t * k * n, (t + 1) * k * n), [k, n]);
        const want = naiveProduct(at, bt, false, false);
        for (let i = 0; i < m * n; i++)
          expect(Math.abs(c[t * m * n + i] - want[i]), `${m}x${k}x${n} entry ${t}`).toBeLessThanOrEqual(
            1e-12 * Math.max(1, Math.abs(want[i])),
          );
      }
    }
    const check = (len: number) => {
      const x = randn([len], rng);
      const y = tanh(x).data;
      for (let i = 0; i < len; i++)
        expect(Math.abs(y[i] - Math.tanh(x.data[i])), `tanh length ${len}`).toBeLessThanOrEqual(
          1e-15 * Math.max(Math.abs(y[i]), 1e-300),
        );
    };
    for (const len of [17, 64, 100]) check(len);
    // A product far larger than any before grows the scratch memory the tanh kernel also uses.
    const big = randn([700, 700], rng);
    expect(Number.isFinite(matmul(big, big).data[0])).toBe(true);
    for (const len of [17, 64, 100, 5000]) check(len);
  });

  it('tanh is within 1e-15 relative of Math.tanh, including special values', () => {
    const rng = new Rng(12);
    const n = 20001;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = (2 * rng.uniform() - 1) * 10 ** (8 * rng.uniform() - 6);
    const specials = [
      0,
      1e-300,
      -1e-12,
      0.3466,
      -0.3467,
      19.06,
      -30,
      400,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    values.set(specials, 0);
    const y = tanh(fromArray(values)).data;
    for (let i = 0; i < n; i++) {
      const ref = Math.tanh(values[i]);
      expect(Math.abs(y[i] - ref)).toBeLessThanOrEqual(1e-15 * Math.abs(ref));
    }
    const withNaN = tanh(
      fromArray(Array.from({ length: 40 }, (_, i) => (i === 7 ? Number.NaN : i / 10))),
    ).data;
    expect(Number.isNaN(withNaN[7])).toBe(true);
    expect(withNaN[8]).toBeCloseTo(Math.tanh(0.8), 15);
  });

  it('gradients through WASM-sized layers pass first- and second-order checks', () => {
    const rng = new Rng(13);
    const f = (x: ReturnType<typeof randn>, w: ReturnType<typeof randn>, b: ReturnType<typeof randn>) =>
      sum(tanh(linear(x, w, b)));
    const inputs = [randn([8, 16], rng), randn([32, 16], rng, { std: 0.3 }), randn([32], rng)];
    const first = gradcheck(f, inputs);
    expect(first.ok, first.message).toBe(true);
    const second = gradgradcheck(f, [inputs[0], randn([32, 16], rng, { std: 0.3 }), inputs[2]], { wrt: [1] });
    expect(second.ok, second.message).toBe(true);
  });
});
