import { defineTableau } from '../tableau.js';

/** Explicit Euler: first order, one stage. Fixed step only. */
export const EULER_TABLEAU = defineTableau({
  name: 'euler',
  order: 1,
  c: [0],
  a: [[]],
  b: [1],
  reference: 'L. Euler, Institutionum calculi integralis (1768).',
});
