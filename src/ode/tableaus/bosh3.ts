import { defineTableau } from '../tableau.js';

/**
 * Bogacki–Shampine 3(2) (SciPy's RK23, MATLAB's ode23): four stages with FSAL, so three evaluations per step.
 * Dense output: the cubic Hermite interpolant through both ends (third order), written in P form.
 */
export const BOSH3_TABLEAU = defineTableau({
  name: 'bosh3',
  order: 3,
  errorOrder: 2,
  c: [0, 1 / 2, 3 / 4, 1],
  a: [[], [1 / 2], [0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
  b: [2 / 9, 1 / 3, 4 / 9, 0],
  // b − b̂ with b̂ = (7/24, 1/4, 1/3, 1/8).
  bError: [-5 / 72, 1 / 12, 1 / 9, -1 / 8],
  dense: {
    order: 3,
    p: [
      [1, -4 / 3, 5 / 9],
      [0, 1, -2 / 3],
      [0, 4 / 3, -8 / 9],
      [0, -1, 1],
    ],
  },
  reference: 'P. Bogacki & L. F. Shampine, Appl. Math. Lett. 2 (1989) 321–325.',
});
