import { defineTableau } from '../tableau.js';

/**
 * Heun–Euler 2(1): Heun's method with explicit Euler embedded for the error estimate. Cheap and crude; useful
 * at loose tolerances and as the smallest adaptive method. Dense output: cubic Hermite.
 */
export const HEUN_EULER_TABLEAU = defineTableau({
  name: 'heun-euler',
  order: 2,
  errorOrder: 1,
  c: [0, 1],
  a: [[], [1]],
  b: [1 / 2, 1 / 2],
  // b − b̂ with b̂ = (1, 0), the Euler step.
  bError: [-1 / 2, 1 / 2],
  reference: 'E. Hairer, S. P. Nørsett & G. Wanner, Solving ODEs I (2nd ed., 1993), §II.4.',
});
