import { defineTableau } from '../tableau.js';

/** Explicit midpoint rule: second order, two stages. Fixed step only. */
export const MIDPOINT_TABLEAU = defineTableau({
  name: 'midpoint',
  order: 2,
  c: [0, 1 / 2],
  a: [[], [1 / 2]],
  b: [0, 1],
  reference: 'J. C. Butcher, Numerical Methods for Ordinary Differential Equations (3rd ed., 2016), §23.',
});
