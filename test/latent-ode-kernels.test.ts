import { describe, expect, it } from 'vitest';
import {
  addAffine,
  addRnn,
  affineBackward,
  affineForward,
  ParameterLayout,
  rnnBackward,
  rnnForward,
  Scratch,
} from '../src/models/latent-ode-kernels.js';
import { Rng } from '../src/random/index.js';

function randomArray(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniformIn(-1, 1);
  return a;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('affine kernels', () => {
  // Narrow inputs (≤ 4) take the direct path; 2500 rows span several row blocks of the product path.
  for (const inDim of [1, 3, 4, 6]) {
    for (const xStride of [inDim, inDim + 2]) {
      it(`forward and backward equal plain loops (in ${inDim}, row stride ${xStride}, 2500 rows)`, () => {
        const rng = new Rng(inDim * 10 + xStride);
        const outDim = 5;
        const rows = 2500;
        const layout = new ParameterLayout();
        const layer = addAffine(layout, inDim, outDim);
        const theta = layout.initialise(rng);
        const xOffset = 3;
        const x = randomArray(rng, xOffset + rows * xStride);
        const out = new Float64Array(rows * outDim);
        affineForward(theta, layer, x, xOffset, xStride, rows, out);
        const expected = new Float64Array(rows * outDim);
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < outDim; o++) {
            let s = theta[layer.bias + o];
            for (let i = 0; i < inDim; i++)
              s += theta[layer.weight + o * inDim + i] * x[xOffset + r * xStride + i];
            expected[r * outDim + o] = s;
          }
        }
        expect(maxDiff(out, expected)).toBeLessThan(1e-12);

        const gOut = randomArray(rng, rows * outDim);
        const grad = randomArray(rng, theta.length);
        const gx = randomArray(rng, x.length);
        const gradExpected = grad.slice();
        const gxExpected = gx.slice();
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < outDim; o++) {
            const g = gOut[r * outDim + o];
            gradExpected[layer.bias + o] += g;
            for (let i = 0; i < inDim; i++) {
              const xo = xOffset + r * xStride + i;
              gradExpected[layer.weight + o * inDim + i] += g * x[xo];
              gxExpected[xo] += g * theta[layer.weight + o * inDim + i];
            }
          }
        }
        affineBackward(theta, grad, layer, x, xOffset, xStride, rows, gOut, gx);
        expect(maxDiff(grad, gradExpected)).toBeLessThan(1e-10);
        expect(maxDiff(gx, gxExpected)).toBeLessThan(1e-12);
      });
    }
  }
});

describe('rnnForward / rnnBackward', () => {
  // Odd hidden sizes are stored padded to an even stride; inputs of 3 values use the direct projection, 6 the
  // product path; 300 rows × 4 steps span several row blocks of the weight-gradient products.
  for (const [hidden, inDim, rows] of [
    [5, 3, 300],
    [4, 3, 300],
    [5, 6, 7],
    [6, 6, 300],
  ] as const) {
    it(`match a plain recurrence and finite differences (hidden ${hidden}, inputs ${inDim}, rows ${rows})`, () => {
      const rng = new Rng(hidden * 100 + inDim + rows);
      const steps = 4;
      const layout = new ParameterLayout();
      const cell = addRnn(layout, inDim, hidden);
      expect(cell.stride % 2).toBe(0);
      expect(cell.stride - hidden).toBeLessThan(2);
      const theta = layout.initialise(rng);
      const inputs = randomArray(rng, steps * rows * inDim);
      const active = new Uint8Array(steps * rows);
      for (let i = 0; i < active.length; i++) active[i] = rng.uniformIn(0, 1) < 0.8 ? 1 : 0;
      const sd = cell.stride;
      const states = new Float64Array((steps + 1) * rows * sd);
      rnnForward(theta, cell, inputs, active, steps, rows, states);
      // Plain recurrence.
      let h = new Float64Array(rows * hidden);
      for (let s = 0; s < steps; s++) {
        const next = new Float64Array(rows * hidden);
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < hidden; o++) {
            if (active[s * rows + r] === 0) {
              next[r * hidden + o] = h[r * hidden + o];
              continue;
            }
            let z = theta[cell.input.bias + o];
            for (let i = 0; i < inDim; i++) {
              z += theta[cell.input.weight + o * inDim + i] * inputs[(s * rows + r) * inDim + i];
            }
            for (let i = 0; i < hidden; i++) z += theta[cell.recurrent + o * hidden + i] * h[r * hidden + i];
            next[r * hidden + o] = Math.tanh(z);
          }
        }
        h = next;
        for (let r = 0; r < rows; r++) {
          const base = ((s + 1) * rows + r) * sd;
          for (let o = 0; o < hidden; o++)
            expect(Math.abs(states[base + o] - h[r * hidden + o])).toBeLessThan(1e-13);
          for (let o = hidden; o < sd; o++) expect(states[base + o]).toBe(0);
        }
      }
      // L = Σ c · states over every step (padding excluded); gradient against central differences.
      const c = randomArray(rng, states.length);
      for (let i = 0; i < states.length; i++) if (i % sd >= hidden) c[i] = 0;
      const loss = () => {
        rnnForward(theta, cell, inputs, active, steps, rows, states);
        let l = 0;
        for (let i = 0; i < states.length; i++) l += c[i] * states[i];
        return l;
      };
      loss();
      const grad = new Float64Array(theta.length);
      rnnBackward(theta, grad, cell, inputs, active, steps, rows, states, c.slice(), new Scratch());
      for (let p = 0; p < theta.length; p++) {
        const v = theta[p];
        theta[p] = v + 1e-6;
        const up = loss();
        theta[p] = v - 1e-6;
        const down = loss();
        theta[p] = v;
        const fd = (up - down) / 2e-6;
        expect(Math.abs(fd - grad[p])).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
      }
    });
  }
});
