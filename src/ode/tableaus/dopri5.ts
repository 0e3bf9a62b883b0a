import { defineTableau, hairerDenseRows } from '../tableau.js';

const B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];

/**
 * Coefficients of the fourth-order continuous extension of DOPRI5 (Shampine 1986, in the form of Hairer's
 * DOPRI5 code, Solving ODEs I §II.6): the term F3 = h·Σ d_i k_i of {@link hairerDenseRows}.
 */
const D = [
  -12715105075 / 11282082432,
  0,
  87487479700 / 32700410799,
  -10690763975 / 1880347072,
  701980252875 / 199316789632,
  -1453857185 / 822651844,
  69997945 / 29380423,
];

/**
 * Dormand–Prince 5(4): seven stages with FSAL (six evaluations per step), fifth-order solution (local
 * extrapolation), fourth-order embedded estimate and a fourth-order continuous extension. The default method.
 *
 * Stiffness test (Hairer's DOPRI5): h·‖k7 − k6‖/‖y1 − y6‖ estimates |hλ| for the dominant eigenvalue; the
 * stability region of the method reaches about 3.3 along the negative real axis.
 */
export const DOPRI5_TABLEAU = defineTableau({
  name: 'dopri5',
  order: 5,
  errorOrder: 4,
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: B,
  // b − b̂ with b̂ = (5179/57600, 0, 7571/16695, 393/640, −92097/339200, 187/2100, 1/40).
  bError: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
  dense: { order: 4, p: hairerDenseRows(B, 6, [D], 7) },
  stiffnessTest: { stage: 5, boundary: 3.25 },
  reference: 'J. R. Dormand & P. J. Prince, J. Comput. Appl. Math. 6 (1980) 19–26.',
});
