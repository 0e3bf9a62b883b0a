import { defineTableau } from '../tableau.js';

/** The classical fourth-order Runge–Kutta method. Fixed step only. */
export const RK4_TABLEAU = defineTableau({
  name: 'rk4',
  order: 4,
  c: [0, 1 / 2, 1 / 2, 1],
  a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  reference: 'W. Kutta, Z. Math. Phys. 46 (1901) 435–453.',
});
