/** Shared helpers of the nn tests: finite-difference checks over a module's flat parameter vector. */
import { noGrad } from '../src/autograd/index.js';
import type { Module } from '../src/nn/index.js';
import { Rng } from '../src/random/index.js';
import { Tensor } from '../src/tensor/index.js';

export function randomTensor(rng: Rng, shape: number[], scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * rng.normal();
  return new Tensor(d, shape);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Compares the flat gradient of L(θ) = ⟨forward(), w⟩ (w a fixed random cotangent) filled by backward with
 * central finite differences in every coordinate of θ. Returns the largest error
 * |analytic − numeric| / max(1, |analytic|, |numeric|).
 */
export function parameterGradientError(model: Module, forward: () => Tensor, seed = 1, h = 1e-6): number {
  const theta = model.parameters;
  const out = forward();
  const rng = new Rng(seed);
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  model.zeroGrad();
  out.backward(new Tensor(w, out.shape));
  const analytic = model.gradients.slice();
  const loss = () => noGrad(() => dot(forward().data, w));
  let worst = 0;
  for (let i = 0; i < theta.length; i++) {
    const saved = theta[i];
    theta[i] = saved + h;
    const plus = loss();
    theta[i] = saved - h;
    const minus = loss();
    theta[i] = saved;
    const numeric = (plus - minus) / (2 * h);
    const err = Math.abs(analytic[i] - numeric) / Math.max(1, Math.abs(analytic[i]), Math.abs(numeric));
    if (err > worst) worst = err;
  }
  return worst;
}
