import { defineTableau, denseRowsFromPolynomials, polynomialProduct } from '../tableau.js';

const B = [
  0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0,
];
/** The embedded fourth-order weights b̂ of the paper. */
const B_HAT = [
  0.09468075576583945,
  0.009183565540343254,
  0.4877705284247616,
  1.234297566930479,
  -2.7077123499835256,
  1.866628418170587,
  1 / 66,
];

/**
 * Tsitouras 5(4): seven stages with FSAL, coefficients chosen by satisfying only the first column simplifying
 * assumption, which gives smaller error constants than Dormand–Prince. Fourth-order continuous extension
 * b_i(θ) from the paper, given here in factored form and expanded at load.
 */
export const TSIT5_TABLEAU = defineTableau({
  name: 'tsit5',
  order: 5,
  errorOrder: 4,
  c: [0, 161 / 1000, 327 / 1000, 9 / 10, 0.9800255409045097, 1, 1],
  a: [
    [],
    [161 / 1000],
    [-0.008480655492356989, 0.335480655492357],
    [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
    [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
    [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
    B.slice(0, 6),
  ],
  b: B,
  bError: B.map((bi, i) => bi - B_HAT[i]),
  dense: {
    order: 4,
    p: denseRowsFromPolynomials([
      polynomialProduct(
        -1.0530884977290216,
        [0, 1],
        [-1.329989018975141, 1],
        [0.7139816917074209, -1.4364028541716352, 1],
      ),
      polynomialProduct(0.1017, [0, 0, 1], [1.294985250737463, -2.1966568338249752, 1]),
      polynomialProduct(2.490627285651253, [0, 0, 1], [1.578034682080925, -2.3853564547206165, 1]),
      polynomialProduct(-16.548102889244902, [0, 0, 1], [-1.2171292729553325, 1], [-0.6162040603780009, 1]),
      polynomialProduct(47.37952196281928, [0, 0, 1], [-1.2030712083723627, 1], [-0.6580472926535474, 1]),
      polynomialProduct(-34.87065786149661, [0, 0, 1], [-1.2, 1], [-2 / 3, 1]),
      polynomialProduct(2.5, [0, 0, 1], [-1, 1], [-0.6, 1]),
    ]),
  },
  reference: 'Ch. Tsitouras, Comput. Math. Appl. 62 (2011) 770–775.',
});
