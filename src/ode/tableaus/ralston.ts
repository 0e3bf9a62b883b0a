import { defineTableau } from '../tableau.js';

/** Ralston's second-order method: the two-stage method with the smallest error bound. Fixed step only. */
export const RALSTON_TABLEAU = defineTableau({
  name: 'ralston',
  order: 2,
  c: [0, 2 / 3],
  a: [[], [2 / 3]],
  b: [1 / 4, 3 / 4],
  reference: 'A. Ralston, Math. Comp. 16 (1962) 431–437.',
});
