import { defineTableau } from '../tableau.js';

/** Kutta's 3/8 rule: fourth order, four stages, smaller error constants than classical RK4. Fixed step only. */
export const RK38_TABLEAU = defineTableau({
  name: 'rk38',
  order: 4,
  c: [0, 1 / 3, 2 / 3, 1],
  a: [[], [1 / 3], [-1 / 3, 1], [1, -1, 1]],
  b: [1 / 8, 3 / 8, 3 / 8, 1 / 8],
  reference: 'W. Kutta, Z. Math. Phys. 46 (1901) 435–453.',
});
