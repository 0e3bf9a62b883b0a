import { describe, expect, it } from 'vitest';
import { enableRelaxedSimd } from '../src/cli/wasm-flags.js';
import {
  addAffine,
  addGru,
  addMlp,
  addRnn,
  allocGru,
  allocRnn,
  gruBackward,
  gruForward,
  PackedMlp,
  PackedWeights,
  ParameterLayout,
  packGruCell,
  packRnnCell,
  paddedWidth,
  type RnnBuffers,
  rnnBackward,
  rnnForward,
  rnnInputRow,
  rnnState,
} from '../src/models/feature-major.js';
import { Rng } from '../src/random/index.js';
import { WASM } from '../src/tensor/wasm-asm.js';
import { Workspace, workspaceModuleBytes, workspaceSimdAvailable } from '../src/tensor/workspace.js';

function fillRandom(ws: Workspace, at: number, n: number, rng: Rng, scale = 1): void {
  for (let i = 0; i < n; i++) ws.heap[at + i] = scale * rng.uniformIn(-1, 1);
}

/**
 * A recurrent cell's test case over `buf`: random inputs written into every step, a schedule of idle
 * columns, and L = Σ_s c_s · h_s over every state with random c (zero in the padding columns). `loss` runs
 * `forward` and returns L; `seed` starts backpropagation with dL/dh_steps and `addTarget` is the `external`
 * callback that adds dL/dh_s for the earlier states.
 */
function recurrentCase(
  ws: Workspace,
  buf: RnnBuffers,
  rows: number,
  rng: Rng,
  forward: (inactive: Int32Array[]) => void,
) {
  const { inDim, hidden, width, steps } = buf;
  const inputs = new Float64Array(steps * rows * inDim);
  for (let i = 0; i < inputs.length; i++) inputs[i] = rng.uniformIn(-1, 1);
  for (let s = 0; s < steps; s++) {
    for (let d = 0; d < inDim; d++) {
      for (let r = 0; r < rows; r++) ws.heap[rnnInputRow(buf, s, d) + r] = inputs[(s * rows + r) * inDim + d];
    }
  }
  const inactive = Array.from({ length: steps }, (_, s) =>
    Int32Array.from({ length: rows }, (_, r) => r).filter((r) => (r * 7 + s * 3) % 5 === 0),
  );
  const c = Array.from({ length: steps + 1 }, () =>
    Float64Array.from({ length: hidden * width }, (_, i) => (i % width < rows ? rng.uniformIn(-1, 1) : 0)),
  );
  const loss = () => {
    forward(inactive);
    let l = 0;
    for (let s = 0; s <= steps; s++) {
      const h = rnnState(buf, s);
      for (let i = 0; i < hidden * width; i++) l += c[s][i] * ws.heap[h + i];
    }
    return l;
  };
  const seed = () => ws.heap.set(c[steps], buf.gA);
  const addTarget = (state: number, g: number) => {
    for (let i = 0; i < hidden * width; i++) ws.heap[g + i] += c[state][i];
  };
  return { inputs, inactive, loss, seed, addTarget };
}

const MODES = workspaceSimdAvailable() ? [true, false] : [false];

describe('Workspace kernels', () => {
  it('has WebAssembly SIMD on this platform', () => {
    expect(workspaceSimdAvailable()).toBe(true);
  });

  it('with relaxed SIMD, the fused matrix products, tanh and ELU agree with plain loops and Math to rounding', () => {
    expect(enableRelaxedSimd()).toBe(true);
    const api = WASM as NonNullable<typeof WASM>;
    const bytes = workspaceModuleBytes(true);
    expect(api.validate(bytes)).toBe(true);
    const k = new api.Instance(new api.Module(bytes), {}).exports as {
      axpy: (...args: number[]) => void;
      dots: (...args: number[]) => void;
      tanh: (...args: number[]) => void;
      elu: (...args: number[]) => void;
      mem: { buffer: ArrayBuffer; grow(pages: number): number };
    };
    k.mem.grow(2);
    const h = new Float64Array(k.mem.buffer);
    const rng = new Rng(5);
    const [m, n, kk] = [7, 42, 29];
    const [a, b, c] = [0, 512, 512 + kk * n];
    for (let i = 0; i < c + m * n; i++) h[i] = rng.uniformIn(-1, 1);
    // C = A·B (A row-major m×k, byte strides) and D = C·Bᵀ-style dot products of rows.
    k.axpy(m, n, kk, a * 8, kk * 8, 8, b * 8, c * 8, 0);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let p = 0; p < kk; p++) want += h[a + i * kk + p] * h[b + p * n + j];
        expect(Math.abs(h[c + i * n + j] - want)).toBeLessThan(1e-13);
      }
    }
    const d = c + m * n;
    // dots: D[i, j] = Σ_p C[i, p]·B[j, p] over the first 2·⌊n/2⌋ columns, C (m×n) and B (kk×n) row-major.
    k.dots(m, kk, n, c * 8, b * 8, d * 8, 0);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < kk; j++) {
        let want = 0;
        for (let p = 0; p < n; p++) want += h[c + i * n + p] * h[b + j * n + p];
        expect(Math.abs(h[d + i * kk + j] - want)).toBeLessThan(1e-12);
      }
    }
    // tanh and ELU with multiply–adds: a few ulps from Math, from tiny to saturating inputs of either sign.
    const count = 2048;
    for (let i = 0; i < count; i++) {
      h[i] =
        i % 2 === 0
          ? (i - count / 2) / 75
          : (rng.uniform() < 0.5 ? -1 : 1) * 10 ** (14.5 * rng.uniform() - 12);
    }
    for (const [name, exact] of [
      ['tanh', Math.tanh],
      ['elu', (v: number) => (v > 0 ? v : Math.expm1(v))],
    ] as const) {
      k[name](count * 8, 0, count * 8);
      let worst = 0;
      for (let i = 0; i < count; i++) {
        const want = exact(h[i]);
        worst = Math.max(worst, Math.abs(h[count + i] - want) / Math.max(Math.abs(want), 1e-300));
      }
      expect(worst, name).toBeLessThan(2e-15);
    }
  });

  for (const simd of MODES) {
    const label = simd ? 'SIMD' : 'JavaScript';
    it(`${label}: tanh and ELU match Math to a few ulps over a wide range, including ±0, large |x| and NaN`, () => {
      const ws = new Workspace({ simd });
      expect(ws.simd).toBe(simd);
      const values = [0, -0, 1e-300, -1e-20, 1e-9, -0.3, 0.7, 1, -2.5, 19, -19, 40, -800, 800, Number.NaN];
      const n = 4096;
      const x = ws.alloc(n);
      const y = ws.alloc(n);
      // Specials, an even grid over ±13.6, and log-uniform magnitudes from 1e-12 to ~300 of either sign.
      const rng = new Rng(9);
      for (let i = 0; i < n; i++) {
        const logUniform = (rng.uniform() < 0.5 ? -1 : 1) * 10 ** (14.5 * rng.uniform() - 12);
        ws.heap[x + i] = i < values.length ? values[i] : i % 2 === 0 ? (i - n / 2) / 150 : logUniform;
      }
      let worstTanh = 0;
      ws.tanh(n, x, y);
      for (let i = 0; i < n; i++) {
        const v = ws.heap[x + i];
        const want = Math.tanh(v);
        const got = ws.heap[y + i];
        if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
        else worstTanh = Math.max(worstTanh, Math.abs(got - want) / Math.max(Math.abs(want), 1e-300));
      }
      let worstElu = 0;
      ws.elu(n, x, y);
      for (let i = 0; i < n; i++) {
        const v = ws.heap[x + i];
        const want = v > 0 ? v : Math.expm1(v);
        const got = ws.heap[y + i];
        if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
        else if (want === 0) expect(got === 0).toBe(true);
        else worstElu = Math.max(worstElu, Math.abs(got - want) / Math.abs(want));
      }
      expect(worstTanh).toBeLessThan(2e-15);
      expect(worstElu).toBeLessThan(2e-15);
    });

    it(`${label}: elementwise updates and both products equal plain loops (odd shapes, strided A)`, () => {
      const ws = new Workspace({ simd });
      const rng = new Rng(3);
      const n = 48;
      const [g, y, x, out] = [ws.alloc(n), ws.alloc(n), ws.alloc(n), ws.alloc(n)];
      for (const at of [g, y, x, out]) fillRandom(ws, at, n, rng, 2);
      const h = ws.heap;
      const snapshot = (at: number) => Array.from(h.subarray(at, at + n));
      const [g0, y0, x0, out0] = [snapshot(g), snapshot(y), snapshot(x), snapshot(out)];
      ws.tanhGrad(n, g, y);
      ws.eluGrad(n, x, y);
      ws.axpy(n, 0.7, g, out);
      for (let i = 0; i < n; i++) {
        const gi = g0[i] * (1 - y0[i] * y0[i]);
        expect(h[g + i]).toBeCloseTo(gi, 14);
        expect(h[x + i]).toBeCloseTo(x0[i] * (y0[i] > 0 ? 1 : y0[i] + 1), 14);
        expect(h[out + i]).toBeCloseTo(out0[i] + 0.7 * gi, 14);
      }
      ws.addScaled(n, g, -1.5, y, out);
      for (let i = 0; i < n; i++) expect(h[out + i]).toBeCloseTo(h[g + i] - 1.5 * h[y + i], 14);
      ws.scale(n, 3, y, out);
      for (let i = 0; i < n; i++) expect(h[out + i]).toBe(3 * h[y + i]);
      const before = snapshot(g);
      ws.relu(n, y, out);
      ws.reluGrad(n, g, out);
      for (let i = 0; i < n; i++) {
        expect(h[out + i]).toBe(Math.max(h[y + i], 0));
        expect(h[g + i]).toBe(h[y + i] > 0 ? before[i] : 0);
      }
      expect(() => ws.axpy(10, 1, g, out)).toThrow(/multiples of 16/);

      for (const [m, cols, k] of [
        [1, 2, 1],
        [5, 34, 7],
        [9, 18, 29],
      ]) {
        ws.reset();
        const a = ws.alloc(m * k);
        const b = ws.alloc(k * cols);
        const c = ws.alloc(m * cols);
        const d = ws.alloc(m * k);
        const e = ws.alloc(k * cols);
        fillRandom(ws, a, m * k, rng);
        fillRandom(ws, b, k * cols, rng);
        fillRandom(ws, c, m * cols, rng);
        const c0 = Array.from(ws.heap.subarray(c, c + m * cols));
        // C += A·B, then D = C·Bᵀ with A read through its transpose's strides.
        ws.matmul(m, cols, k, a, k, 1, b, c, true);
        const H = ws.heap;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < cols; j++) {
            let s = c0[i * cols + j];
            for (let p = 0; p < k; p++) s += H[a + i * k + p] * H[b + p * cols + j];
            expect(Math.abs(H[c + i * cols + j] - s)).toBeLessThan(1e-13);
          }
        }
        ws.matmulTransB(m, k, cols, c, b, d, false);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < k; j++) {
            let s = 0;
            for (let p = 0; p < cols; p++) s += H[c + i * cols + p] * H[b + j * cols + p];
            expect(Math.abs(H[d + i * k + j] - s)).toBeLessThan(1e-12);
          }
        }
        // Transposed A: out[k, cols] = Aᵀ·C through strides (1, k).
        ws.matmul(k, cols, m, a, 1, k, c, e, false);
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < cols; j++) {
            let s = 0;
            for (let p = 0; p < m; p++) s += H[a + p * k + i] * H[c + p * cols + j];
            expect(Math.abs(H[e + i * cols + j] - s)).toBeLessThan(1e-12);
          }
        }
      }
    });
  }

  it('keeps its buffers across growth and hands out multiples of 16', () => {
    const ws = new Workspace();
    const a = ws.alloc(3, 7);
    expect(ws.used).toBe(16);
    for (let i = 0; i < 3; i++) expect(ws.heap[a + i]).toBe(7);
    const big = ws.alloc(2_000_000);
    expect(ws.heap.length).toBeGreaterThanOrEqual(big + 2_000_000);
    for (let i = 0; i < 3; i++) expect(ws.heap[a + i]).toBe(7);
    expect(() => ws.alloc(-1)).toThrow(/alloc/);
  });
});

/** dL/dθ of `loss` by central differences. */
function finiteDifferences(theta: Float64Array, loss: () => number, h = 1e-6): Float64Array {
  const out = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const v = theta[i];
    theta[i] = v + h;
    const up = loss();
    theta[i] = v - h;
    const down = loss();
    theta[i] = v;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

function expectClose(analytic: ArrayLike<number>, fd: ArrayLike<number>, tol = 1e-6): void {
  for (let i = 0; i < fd.length; i++)
    expect(Math.abs(analytic[i] - fd[i])).toBeLessThan(tol * (1 + Math.abs(fd[i])));
}

describe('feature-major layers', () => {
  it('a packed affine layer reads its segment rows and the ones row, and its backward is exact', () => {
    const rng = new Rng(5);
    const ws = new Workspace();
    const layout = new ParameterLayout();
    const layer = addAffine(layout, 3, 4);
    const theta = layout.initialise(rng);
    const rows = 37;
    const width = paddedWidth(rows);
    expect(width).toBe(48);
    // Input block of 6 rows: features 0–2, two rows the layer must ignore, ones.
    const K = 6;
    const packed = PackedWeights.of(ws, layer, K);
    const input = ws.alloc(K * width);
    const out = ws.alloc(4 * width);
    const gOut = ws.alloc(4 * width);
    const gIn = ws.alloc(3 * width);
    fillRandom(ws, input, K * width, rng);
    ws.heap.fill(1, input + 5 * width, input + 6 * width);
    fillRandom(ws, gOut, 4 * width, rng);
    packed.pack(ws, theta);
    packed.forward(ws, input, width, out);
    const h = ws.heap;
    for (let o = 0; o < 4; o++) {
      for (let r = 0; r < rows; r++) {
        let s = theta[layer.bias + o];
        for (let i = 0; i < 3; i++) s += theta[layer.weight + o * 3 + i] * h[input + i * width + r];
        expect(h[out + o * width + r]).toBeCloseTo(s, 13);
      }
    }
    packed.backward(ws, input, width, gOut, gIn, 3, false);
    const grad = new Float64Array(theta.length);
    packed.unpack(ws, grad);
    for (let o = 0; o < 4; o++) {
      let gb = 0;
      for (let r = 0; r < width; r++) gb += h[gOut + o * width + r];
      expect(grad[layer.bias + o]).toBeCloseTo(gb, 12);
      for (let i = 0; i < 3; i++) {
        let gw = 0;
        for (let r = 0; r < width; r++) gw += h[gOut + o * width + r] * h[input + i * width + r];
        expect(grad[layer.weight + o * 3 + i]).toBeCloseTo(gw, 12);
      }
    }
    for (let i = 0; i < 3; i++) {
      for (let r = 0; r < width; r++) {
        let s = 0;
        for (let o = 0; o < 4; o++) s += theta[layer.weight + o * 3 + i] * h[gOut + o * width + r];
        expect(h[gIn + i * width + r]).toBeCloseTo(s, 13);
      }
    }
  });

  for (const [activation, depth] of [
    ['tanh', 1],
    ['elu', 2],
    ['relu', 1],
  ] as const) {
    it(`an MLP (${activation}, ${depth} hidden layers) has exact gradients for parameters and inputs`, () => {
      const rng = new Rng(depth);
      const ws = new Workspace();
      const layout = new ParameterLayout();
      const mlp = addMlp(layout, 3, 7, 2, activation, depth);
      const theta = layout.initialise(rng);
      const rows = 21;
      const width = paddedWidth(rows);
      const K = 4;
      const packed = new PackedMlp(ws, mlp, K, width);
      const hidden = packed.allocHidden(ws, width);
      const input = ws.alloc(K * width);
      const out = ws.alloc(2 * width);
      const gOut = ws.alloc(2 * width);
      const gIn = ws.alloc(3 * width);
      fillRandom(ws, input, 3 * width, rng, 2);
      ws.heap.fill(1, input + 3 * width, input + 4 * width);
      const c = new Float64Array(2 * width);
      for (let i = 0; i < 2 * rows; i++) c[(i % 2) * width + Math.floor(i / 2)] = rng.uniformIn(-1, 1);
      const loss = () => {
        packed.pack(ws, theta);
        packed.forward(ws, input, width, hidden, out);
        let l = 0;
        for (let i = 0; i < 2 * width; i++) l += c[i] * ws.heap[out + i];
        return l;
      };
      loss();
      ws.heap.set(c, gOut);
      packed.backward(ws, input, width, hidden, gOut, gIn, 3, false);
      const grad = new Float64Array(theta.length);
      packed.unpack(ws, grad);
      const gInCopy = Array.from(ws.heap.subarray(gIn, gIn + 3 * width));
      expectClose(grad, finiteDifferences(theta, loss));
      // Input gradient, one entry per feature of a few rows.
      for (const [i, r] of [
        [0, 0],
        [1, 5],
        [2, 20],
      ]) {
        const at = input + i * width + r;
        const v = ws.heap[at];
        ws.heap[at] = v + 1e-6;
        const up = loss();
        ws.heap[at] = v - 1e-6;
        const down = loss();
        ws.heap[at] = v;
        expect(Math.abs(gInCopy[i * width + r] - (up - down) / 2e-6)).toBeLessThan(1e-6);
      }
    });
  }

  it('the RNN matches a plain recurrence with idle columns, and backpropagation through time is exact', () => {
    const rng = new Rng(9);
    const ws = new Workspace();
    const layout = new ParameterLayout();
    const inDim = 3;
    const hidden = 5;
    const cell = addRnn(layout, inDim, hidden);
    const theta = layout.initialise(rng);
    const rows = 19;
    const steps = 4;
    const width = paddedWidth(rows);
    const packed = packRnnCell(ws, cell);
    const buf = allocRnn(ws, cell, width, steps);
    const { inputs, inactive, loss, seed, addTarget } = recurrentCase(ws, buf, rows, rng, (inactive) => {
      packed.pack(ws, theta);
      rnnForward(ws, packed, buf, inactive);
    });
    loss();
    // Plain recurrence.
    let prev = new Float64Array(rows * hidden);
    for (let s = 0; s < steps; s++) {
      const next = new Float64Array(rows * hidden);
      for (let r = 0; r < rows; r++) {
        const idle = inactive[s].includes(r);
        for (let o = 0; o < hidden; o++) {
          let z = theta[cell.input.bias + o];
          for (let i = 0; i < inDim; i++)
            z += theta[cell.input.weight + o * inDim + i] * inputs[(s * rows + r) * inDim + i];
          for (let i = 0; i < hidden; i++) z += theta[cell.recurrent + o * hidden + i] * prev[r * hidden + i];
          next[r * hidden + o] = idle ? prev[r * hidden + o] : Math.tanh(z);
          expect(ws.heap[rnnState(buf, s + 1) + o * width + r]).toBeCloseTo(next[r * hidden + o], 14);
        }
      }
      prev = next;
    }
    seed();
    rnnBackward(ws, packed, buf, inactive, addTarget);
    const grad = new Float64Array(theta.length);
    packed.unpack(ws, grad);
    expectClose(grad, finiteDifferences(theta, loss));
  });

  for (const simd of MODES) {
    it(`the GRU matches a plain recurrence with idle columns, and backpropagation through time is exact (${simd ? 'SIMD' : 'JavaScript'} kernels)`, () => {
      const rng = new Rng(11);
      const ws = new Workspace({ simd });
      const layout = new ParameterLayout();
      const inDim = 3;
      const hidden = 5;
      const cell = addGru(layout, inDim, hidden);
      const theta = layout.initialise(rng);
      // Larger weights than the initialisation, so that the gates sit away from 1/2.
      for (let i = 0; i < theta.length; i++) theta[i] *= 3;
      const rows = 19;
      const steps = 4;
      const width = paddedWidth(rows);
      const packed = packGruCell(ws, cell);
      const buf = allocGru(ws, cell, width, steps);
      const { inputs, inactive, loss, seed, addTarget } = recurrentCase(ws, buf, rows, rng, (inactive) => {
        packed.pack(ws, theta);
        gruForward(ws, packed, buf, inactive);
      });
      loss();
      const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
      // Plain recurrence: z, r = σ(W·[h; x] + b), n = tanh(Wn·[r ⊙ h; x] + bn), h' = (1 − z)·n + z·h.
      let prev = new Float64Array(rows * hidden);
      let gatesAwayFromHalf = 0;
      for (let s = 0; s < steps; s++) {
        const next = new Float64Array(rows * hidden);
        for (let r = 0; r < rows; r++) {
          const x = inputs.subarray((s * rows + r) * inDim, (s * rows + r + 1) * inDim);
          const hp = prev.subarray(r * hidden, (r + 1) * hidden);
          const gate = (o: number) => {
            let a = theta[cell.gateInput.bias + o];
            for (let i = 0; i < inDim; i++) a += theta[cell.gateInput.weight + o * inDim + i] * x[i];
            for (let i = 0; i < hidden; i++) a += theta[cell.gateRecurrent + o * hidden + i] * hp[i];
            return sigmoid(a);
          };
          const reset = Array.from({ length: hidden }, (_, o) => gate(hidden + o));
          for (let o = 0; o < hidden; o++) {
            const z = gate(o);
            if (Math.abs(z - 0.5) > 0.2) gatesAwayFromHalf++;
            let a = theta[cell.candidateInput.bias + o];
            for (let i = 0; i < inDim; i++) a += theta[cell.candidateInput.weight + o * inDim + i] * x[i];
            for (let i = 0; i < hidden; i++)
              a += theta[cell.candidateRecurrent + o * hidden + i] * reset[i] * hp[i];
            const n = Math.tanh(a);
            next[r * hidden + o] = inactive[s].includes(r) ? hp[o] : (1 - z) * n + z * hp[o];
            expect(ws.heap[rnnState(buf, s + 1) + o * width + r]).toBeCloseTo(next[r * hidden + o], 14);
          }
        }
        prev = next;
      }
      expect(gatesAwayFromHalf).toBeGreaterThan(20);
      seed();
      gruBackward(ws, packed, buf, inactive, addTarget);
      const grad = new Float64Array(theta.length);
      packed.unpack(ws, grad);
      expectClose(grad, finiteDifferences(theta, loss));
    });
  }
});
