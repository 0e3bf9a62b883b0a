import { defineTableau } from '../tableau.js';

/**
 * Runge–Kutta–Fehlberg 2(1): three stages, second-order solution with a first-order embedded estimate
 * (as torchdiffeq's and diffrax's `fehlberg2`). Dense output: cubic Hermite.
 *
 * Caveat: Fehlberg designed the pair to propagate the first-order solution, whose error constant is tiny
 * (1/512); the estimate measures that error, not the (larger, O(h³)) error of the second-order solution
 * propagated here. Global errors therefore run 100–1000× the tolerance. Prefer `'bosh3'` when the
 * tolerance must mean something.
 */
export const FEHLBERG2_TABLEAU = defineTableau({
  name: 'fehlberg2',
  order: 2,
  errorOrder: 1,
  c: [0, 1 / 2, 1],
  a: [[], [1 / 2], [1 / 256, 255 / 256]],
  b: [1 / 512, 255 / 256, 1 / 512],
  // b − b̂ with b̂ = (1/256, 255/256, 0).
  bError: [-1 / 512, 0, 1 / 512],
  reference:
    'E. Fehlberg, Low-order classical Runge–Kutta formulas with stepsize control, NASA TR R-315 (1969).',
});
