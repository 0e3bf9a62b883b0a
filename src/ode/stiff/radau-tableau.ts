/**
 * Constants of the three-stage Radau IIA method of order 5 in the transformed form of Hairer & Wanner's
 * RADAU5 (Solving ODEs II, §IV.8): A⁻¹ = T·Λ·T⁻¹ with Λ = diag(μ_real, [[α, β], [−β, α]]), so each simplified
 * Newton iteration needs one real n×n and one complex n×n solve instead of a 3n×3n one.
 * test/stiff-radau.test.ts rebuilds A from its exact entries and checks these against it.
 */
const SQRT6 = Math.sqrt(6);

/** Collocation nodes (the Radau IIA abscissae). */
export const RADAU_C: readonly number[] = Object.freeze([(4 - SQRT6) / 10, (4 + SQRT6) / 10, 1]);

/** Exact Butcher matrix A of Radau IIA order 5 (row-major), kept for validation. */
export const RADAU_A: readonly number[] = Object.freeze([
  (88 - 7 * SQRT6) / 360,
  (296 - 169 * SQRT6) / 1800,
  (-2 + 3 * SQRT6) / 225,
  (296 + 169 * SQRT6) / 1800,
  (88 + 7 * SQRT6) / 360,
  (-2 - 3 * SQRT6) / 225,
  (16 - SQRT6) / 36,
  (16 + SQRT6) / 36,
  1 / 9,
]);

/** Real eigenvalue of A⁻¹: 3 + 3^(2/3) − 3^(1/3). */
export const RADAU_MU_REAL = 3 + 3 ** (2 / 3) - 3 ** (1 / 3);
/** Complex eigenvalue α − iβ of A⁻¹ (the conjugate pair is handled by one complex system). */
export const RADAU_MU_COMPLEX_RE = 3 + 0.5 * (3 ** (1 / 3) - 3 ** (2 / 3));
export const RADAU_MU_COMPLEX_IM = -0.5 * (3 ** (5 / 6) + 3 ** (7 / 6));

/** Eigenvector matrix T (row-major 3×3) and its inverse. */
export const RADAU_T: readonly number[] = Object.freeze([
  0.09443876248897524, -0.1412552950209542, 0.03002919410514742, 0.2502131229653333, 0.20412935229379994,
  -0.3829421127572619, 1, 1, 0,
]);
export const RADAU_TI: readonly number[] = Object.freeze([
  4.178718591551904, 0.32768282076106237, 0.5233764454994495, -4.178718591551904, -0.32768282076106237,
  0.47662355450055044, 0.5028726349457868, -2.571926949855605, 0.5960392048282249,
]);

/**
 * Weights of the embedded error estimate: err = (μ_real/h·I − J)⁻¹ (f(y_n) + Σ_j E_j Z_j / h)
 * (Hairer & Wanner, §IV.8, eq. 8.20 with γ0 = μ_real).
 */
export const RADAU_E: readonly number[] = Object.freeze([
  (-13 - 7 * SQRT6) / 3,
  (-13 + 7 * SQRT6) / 3,
  -1 / 3,
]);

/**
 * Dense output: the collocation polynomial is y_n + Σ_k Q_k x^(k+1), x = (t − t_n)/h, with Q = Zᵀ·P; P is
 * the inverse transpose of the Vandermonde matrix V[j][k] = c_j^(k+1) (row-major 3×3).
 */
export const RADAU_P: readonly number[] = Object.freeze([
  13 / 3 + (7 * SQRT6) / 3,
  -23 / 3 - (22 * SQRT6) / 3,
  10 / 3 + 5 * SQRT6,
  13 / 3 - (7 * SQRT6) / 3,
  -23 / 3 + (22 * SQRT6) / 3,
  10 / 3 - 5 * SQRT6,
  1 / 3,
  -8 / 3,
  10 / 3,
]);
