import { defineTableau } from '../tableau.js';

/** Heun's method (explicit trapezoidal rule): second order, two stages. Fixed step only. */
export const HEUN_TABLEAU = defineTableau({
  name: 'heun',
  order: 2,
  c: [0, 1],
  a: [[], [1]],
  b: [1 / 2, 1 / 2],
  reference: 'K. Heun, Z. Math. Phys. 45 (1900) 23–38.',
});
