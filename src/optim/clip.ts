/**
 * Gradient clipping by global norm (Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent
 * neural networks", ICML 2013), with the scale PyTorch's `clip_grad_norm_` applies:
 * `grad ← grad · min(1, maxNorm / (‖grad‖ + 1e-6))`.
 */
import { OptimError } from './errors.js';

/**
 * Scales `grad` in place so that its Euclidean norm is at most `maxNorm` and returns the norm it had before.
 * The norm is computed with scaling (as BLAS `dnrm2` does), so it neither overflows for entries near 1e200 nor
 * underflows for tiny ones. A non-finite gradient is refused (`nonFiniteGradient`) and left unchanged, since
 * scaling it would turn it into NaN everywhere.
 */
export function clipGradNorm(grad: Float64Array, maxNorm: number): number {
  if (!(grad instanceof Float64Array)) {
    throw new OptimError('invalidOption', 'clipGradNorm: grad must be a Float64Array');
  }
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new OptimError(
      'invalidOption',
      `clipGradNorm: maxNorm must be a finite number > 0, got ${maxNorm}`,
    );
  }
  let scale = 0;
  for (let i = 0; i < grad.length; i++) {
    const a = Math.abs(grad[i]);
    if (!(a <= Number.MAX_VALUE)) {
      throw new OptimError(
        'nonFiniteGradient',
        `clipGradNorm: gradient[${i}] is ${grad[i]}; nothing was clipped`,
      );
    }
    if (a > scale) scale = a;
  }
  if (scale === 0) return 0;
  let sum = 0;
  for (let i = 0; i < grad.length; i++) {
    const r = grad[i] / scale;
    sum += r * r;
  }
  const norm = scale * Math.sqrt(sum);
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) {
    for (let i = 0; i < grad.length; i++) grad[i] *= factor;
  }
  return norm;
}
