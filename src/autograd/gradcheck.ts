/**
 * Finite-difference checks of reverse-mode gradients, for tests and for users writing their own ops.
 *
 * `gradcheck` projects the output on a fixed random cotangent w, L(x) = ⟨f(x), w⟩, and compares the
 * reverse-mode gradient of L with central differences (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h for every input entry.
 * The error of one entry is |analytic − numeric| / max(1, |analytic|, |numeric|): relative for large
 * derivatives, absolute for small ones. `gradgradcheck` applies the same test to the map
 * x ↦ ⟨∇L(x), v⟩ computed with `createGraph`, which checks second derivatives against finite differences of
 * first derivatives.
 */
import { Rng } from '../random/index.js';
import { TensorError } from '../tensor/errors.js';
import { mul } from '../tensor/ops/elementwise.js';
import { sum } from '../tensor/ops/reduce.js';
import { Tensor } from '../tensor/tensor.js';
import { gradients } from './engine.js';
import { gradMode, noGrad } from './node.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-6. */
  readonly eps?: number;
  /** Largest accepted error (see module docs). Default 1e-6. */
  readonly tolerance?: number;
  /** Seed of the random cotangent(s). Default 0. */
  readonly seed?: number;
  /** Indices of the inputs to check; the others are passed through as constants. Default: all. */
  readonly wrt?: readonly number[];
}

/** Outcome of a gradient check. */
export interface GradcheckResult {
  readonly ok: boolean;
  /** Largest error over all checked entries. */
  readonly maxError: number;
  /** Where the largest error occurred. */
  readonly worst: {
    readonly input: number;
    readonly index: number;
    readonly analytic: number;
    readonly numeric: number;
  };
  /** A readable one-line summary. */
  readonly message: string;
}

type Fn = (...xs: Tensor[]) => Tensor;

function randomLike(rng: Rng, t: Tensor): Tensor {
  return new Tensor(rng.fillNormal(new Float64Array(t.size)), t.shape);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Compares reverse-mode gradients of `f` at `inputs` with central finite differences (float64 copies of the
 * inputs are used). Does not throw on mismatch; inspect `ok`/`message`.
 */
export function gradcheck(f: Fn, inputs: readonly Tensor[], options?: GradcheckOptions): GradcheckResult {
  const eps = options?.eps ?? 1e-6;
  const tolerance = options?.tolerance ?? 1e-6;
  const rng = new Rng(options?.seed ?? 0);
  const wrt = options?.wrt ?? inputs.map((_, i) => i);
  const xs = inputs.map((x, i) => {
    const d = new Float64Array(x.size);
    d.set(x.data);
    return new Tensor(d, x.shape, wrt.includes(i));
  });
  const prev = gradMode.enabled;
  gradMode.enabled = true;
  let out: Tensor;
  try {
    out = f(...xs);
  } finally {
    gradMode.enabled = prev;
  }
  const w = randomLike(rng, out);
  const targets = wrt.map((i) => xs[i]);
  const analytic = gradients(out, targets, w);
  const loss = () => noGrad(() => dot(f(...xs).data, w.data));
  let maxError = 0;
  let worst = { input: -1, index: -1, analytic: 0, numeric: 0 };
  for (let k = 0; k < wrt.length; k++) {
    const d = xs[wrt[k]].data;
    const a = analytic[k].data;
    for (let j = 0; j < d.length; j++) {
      const orig = d[j];
      d[j] = orig + eps;
      const lp = loss();
      d[j] = orig - eps;
      const lm = loss();
      d[j] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(a[j] - numeric) / Math.max(1, Math.abs(a[j]), Math.abs(numeric));
      if (!(err <= maxError)) {
        maxError = err;
        worst = { input: wrt[k], index: j, analytic: a[j], numeric };
      }
    }
  }
  const ok = maxError <= tolerance;
  const message = ok
    ? `gradcheck passed (max error ${maxError.toExponential(2)})`
    : `gradcheck failed: input ${worst.input} entry ${worst.index}: analytic ${worst.analytic} vs numeric ${worst.numeric} (error ${maxError.toExponential(2)} > ${tolerance})`;
  return { ok, maxError, worst, message };
}

/**
 * Checks second derivatives: runs {@link gradcheck} on x ↦ ⟨∇ₓ⟨f(x), w⟩, v⟩ with random w, v, whose
 * reverse-mode gradient needs the backward pass of `f` to be differentiable (`createGraph`).
 */
export function gradgradcheck(f: Fn, inputs: readonly Tensor[], options?: GradcheckOptions): GradcheckResult {
  const rng = new Rng((options?.seed ?? 0) + 1);
  const wrt = options?.wrt ?? inputs.map((_, i) => i);
  let w: Tensor | null = null;
  const vs = wrt.map((i) => randomLike(rng, inputs[i]));
  const firstOrder: Fn = (...xs: Tensor[]) => {
    const recording = gradMode.enabled;
    gradMode.enabled = true;
    try {
      const ys = xs.map((x, i) =>
        wrt.includes(i) && !x.requiresGrad ? new Tensor(x.data, x.shape, true) : x,
      );
      const out = f(...ys);
      if (w === null) w = randomLike(rng, out);
      const gs = gradients(
        out,
        wrt.map((i) => ys[i]),
        w,
        { createGraph: recording },
      );
      let total: Tensor | null = null;
      for (let k = 0; k < gs.length; k++) {
        const term = sum(mul(gs[k], vs[k]));
        total = total === null ? term : total.add(term);
      }
      if (total === null) throw new TensorError('INVALID_ARGUMENT', 'gradgradcheck', 'no inputs to check');
      return total;
    } finally {
      gradMode.enabled = recording;
    }
  };
  return gradcheck(firstOrder, inputs, options);
}
