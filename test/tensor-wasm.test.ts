/** The WebAssembly SIMD kernels agree with the scalar kernels and with Math.tanh. */
import { afterAll, describe, expect, it } from 'vitest';
import { gradcheck, gradgradcheck } from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import {
  fromArray,
  linear,
  matmul,
  randn,
  setWasmKernelsEnabled,
  sum,
  tanh,
  transpose,
  wasmKernelsAvailable,
} from '../src/tensor/index.js';

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
