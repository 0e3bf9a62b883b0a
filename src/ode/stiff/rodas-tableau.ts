/**
 * Coefficients of RODAS4, the six-stage L-stable, stiffly accurate Rosenbrock method of order 4(3) by
 * Hairer & Wanner (Solving ODEs II, §VI.4 and Table VI.4.1; the values are those of their code rodas.f,
 * method 1), in the "transformed" form that needs no matrix–vector products:
 *
 *   (1/(γh)·I − J)·k_i = f(t + c_i·h, y + Σ_j a_ij·k_j) + h·d_i·∂f/∂t + Σ_j (c_ij / h)·k_j,
 *
 * with y_{n+1} = y + Σ_{j≤5} a_6j·k_j + k_6 (stages 5 and 6 sit at t + h and y_{n+1} = stage 6 argument + k_6,
 * which is what makes the method stiffly accurate) and the embedded error estimate k_6.
 * Dense output (Hairer & Wanner's continuous extension of order 3):
 *   y(t_n + s·h) = (1 − s)·y_n + s·(y_{n+1} + (1 − s)·(q1 + s·q2)), q1 = Σ D1_j k_j, q2 = Σ D2_j k_j.
 */
export const RODAS4_GAMMA = 0.25;

/** Stage abscissae c_2..c_4 (c_1 = 0, c_5 = c_6 = 1). */
export const RODAS4_C: readonly number[] = Object.freeze([0, 0.386, 0.21, 0.63, 1, 1]);

/** Coefficients d_i of h·∂f/∂t (d_5 = d_6 = 0). */
export const RODAS4_D: readonly number[] = Object.freeze([0.25, -0.1043, 0.1035, -0.03620000000000023, 0, 0]);

/** Lower-triangular a_ij for stages 2..5, rows flattened (row i has i−1 entries). */
export const RODAS4_A: readonly (readonly number[])[] = Object.freeze([
  [],
  [1.544],
  [0.9466785280815826, 0.2557011698983284],
  [3.314825187068521, 2.896124015972201, 0.9986419139977817],
  [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895],
]);

/** Lower-triangular c_ij for stages 2..6. */
export const RODAS4_CC: readonly (readonly number[])[] = Object.freeze([
  [],
  [-5.6688],
  [-2.430093356833875, -0.2063599157091915],
  [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
  [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
  [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
]);

/** Dense-output weights on k_1..k_5. */
export const RODAS4_DENSE_1: readonly number[] = Object.freeze([
  10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662,
]);
export const RODAS4_DENSE_2: readonly number[] = Object.freeze([
  -0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872,
]);
