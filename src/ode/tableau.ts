/**
 * Explicit Runge–Kutta methods as data: a frozen, validated Butcher tableau.
 *
 * A tableau file (src/ode/tableaus/*.ts) only lists coefficients, orders and, where the method has one, its
 * continuous extension. {@link defineTableau} checks the consistency conditions once, at module load, so a
 * mistyped coefficient fails loudly instead of silently lowering the order:
 *  - each row of `a` sums to its `c` (the stages approximate y at t + c·h),
 *  - the weights `b` sum to 1, the error weights `bError` (b − b̂) sum to 0,
 *  - FSAL ("first same as last") is detected, not declared: the last stage has c = 1 and its row equals b,
 *    so its derivative is the next step's first stage.
 * Higher order conditions are checked numerically by the tests (rooted trees up to the method's order).
 */

/** Extra stages evaluated only when dense output is requested (e.g. DOP853's three interpolation stages). */
export interface ExtraStages {
  readonly c: readonly number[];
  /** Row j has one coefficient per earlier stage (main stages first, then earlier extra stages). */
  readonly a: readonly (readonly number[])[];
}

/**
 * Continuous extension y(t0 + θh) = y0 + h · Σ_i k_i · Σ_j p[i][j] θ^(j+1), θ ∈ [0, 1]
 * (the "P matrix" form of SciPy's RkDenseOutput), over the main stages followed by any extra stages.
 */
export interface DenseOutputSpec {
  readonly order: number;
  readonly p: readonly (readonly number[])[];
  readonly extraStages?: ExtraStages;
}

/** Hairer's stiffness test: compare h·‖Δf‖/‖Δy‖ between stage `stage` (c = 1) and the FSAL stage. */
export interface StiffnessTestSpec {
  readonly stage: number;
  /** |hλ| on the boundary of the stability region along the negative real axis (approximately). */
  readonly boundary: number;
}

export interface TableauSpec {
  readonly name: string;
  /** Order of the propagated solution (weights b). */
  readonly order: number;
  /** Order of the embedded solution b̂ = b − bError; absent for fixed-step methods. */
  readonly errorOrder?: number;
  readonly c: readonly number[];
  /** Strictly lower-triangular rows: a[i] has i entries (a[0] is empty). */
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  /** b − b̂: the local error estimate is h·Σ bError_i k_i. */
  readonly bError?: readonly number[];
  /**
   * A second, lower-order error estimate combined with the first as in Hairer's DOP853:
   * err = e² / sqrt(e² + 0.01·e₂²), which keeps the estimate of order `errorOrder` but guards it.
   */
  readonly bError2?: readonly number[];
  readonly dense?: DenseOutputSpec;
  readonly stiffnessTest?: StiffnessTestSpec;
  /** Literature reference, shown in docs. */
  readonly reference?: string;
}

export interface ButcherTableau extends TableauSpec {
  readonly stages: number;
  readonly fsal: boolean;
  readonly adaptive: boolean;
}

/** Thrown at module load when a tableau is inconsistent (a programming error, not a user input error). */
export class TableauError extends Error {
  readonly code = 'invalidTableau';
  constructor(message: string) {
    super(message);
    this.name = 'TableauError';
  }
}

function sum(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x;
  return s;
}

function absSum(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += Math.abs(x);
  return s;
}

/** Sums of coefficients must hold to roundoff relative to the size of the terms. */
function near(actual: number, expected: number, magnitude: number): boolean {
  return Math.abs(actual - expected) <= 1e-13 * Math.max(1, magnitude);
}

function freezeRows(rows: readonly (readonly number[])[]): readonly (readonly number[])[] {
  return Object.freeze(rows.map((r) => Object.freeze([...r])));
}

/** Validate a tableau specification and return it frozen, with FSAL and the stage count derived. */
export function defineTableau(spec: TableauSpec): ButcherTableau {
  const { name, c, a, b, bError, bError2 } = spec;
  const s = c.length;
  const fail = (what: string): never => {
    throw new TableauError(`tableau '${name}': ${what}`);
  };
  if (s === 0) fail('no stages');
  if (a.length !== s) fail(`a has ${a.length} rows, c has ${s} entries`);
  if (b.length !== s) fail(`b has ${b.length} entries, expected ${s}`);
  if (c[0] !== 0) fail('c[0] must be 0 for an explicit method');
  for (let i = 0; i < s; i++) {
    if (a[i].length !== i) fail(`row a[${i}] has ${a[i].length} entries, expected ${i}`);
    if (!near(sum(a[i]), c[i], absSum(a[i]))) fail(`row a[${i}] sums to ${sum(a[i])}, not c[${i}] = ${c[i]}`);
  }
  if (!near(sum(b), 1, absSum(b))) fail(`weights b sum to ${sum(b)}, not 1`);
  for (const [label, e] of [
    ['bError', bError],
    ['bError2', bError2],
  ] as const) {
    if (e === undefined) continue;
    if (e.length !== s) fail(`${label} has ${e.length} entries, expected ${s}`);
    if (!near(sum(e), 0, absSum(e))) fail(`${label} sums to ${sum(e)}, not 0`);
  }
  if ((bError === undefined) !== (spec.errorOrder === undefined)) {
    fail('bError and errorOrder must be given together');
  }
  if (bError2 !== undefined && bError === undefined) fail('bError2 needs bError');
  const last = s - 1;
  const fsal =
    s > 1 && c[last] === 1 && b[last] === 0 && a[last].every((x, j) => near(x, b[j], Math.abs(b[j])));
  const dense = spec.dense;
  if (dense !== undefined) {
    const extra = dense.extraStages;
    const total = s + (extra?.c.length ?? 0);
    if (dense.p.length !== total) fail(`dense p has ${dense.p.length} rows, expected ${total}`);
    const degree = dense.p[0].length;
    if (dense.p.some((row) => row.length !== degree)) fail('dense p rows differ in length');
    // At θ = 1 the interpolant must reproduce the step: Σ_j p[i][j] = b_i.
    for (let i = 0; i < total; i++) {
      const bi = i < s ? b[i] : 0;
      if (!near(sum(dense.p[i]), bi, absSum(dense.p[i]))) fail(`dense p row ${i} does not sum to b[${i}]`);
    }
    if (extra !== undefined) {
      for (let j = 0; j < extra.c.length; j++) {
        const row = extra.a[j];
        if (row.length !== s + j) fail(`extra stage row ${j} has ${row.length} entries, expected ${s + j}`);
        if (!near(sum(row), extra.c[j], absSum(row))) fail(`extra stage row ${j} does not sum to its c`);
      }
    }
  }
  if (spec.stiffnessTest !== undefined && (!fsal || c[spec.stiffnessTest.stage] !== 1)) {
    fail('the stiffness test needs an FSAL method and a stage with c = 1');
  }
  return Object.freeze({
    ...spec,
    c: Object.freeze([...c]),
    a: freezeRows(a),
    b: Object.freeze([...b]),
    bError: bError === undefined ? undefined : Object.freeze([...bError]),
    bError2: bError2 === undefined ? undefined : Object.freeze([...bError2]),
    dense:
      dense === undefined
        ? undefined
        : Object.freeze({
            order: dense.order,
            p: freezeRows(dense.p),
            extraStages:
              dense.extraStages === undefined
                ? undefined
                : Object.freeze({
                    c: Object.freeze([...dense.extraStages.c]),
                    a: freezeRows(dense.extraStages.a),
                  }),
          }),
    stages: s,
    fsal,
    adaptive: bError !== undefined,
  });
}

/** Polynomial coefficients (constant term first) of scale · Π factors, each factor given constant-first. */
export function polynomialProduct(scale: number, ...factors: (readonly number[])[]): number[] {
  let out = [scale];
  for (const f of factors) {
    const next = new Array<number>(out.length + f.length - 1).fill(0);
    for (let i = 0; i < out.length; i++) for (let j = 0; j < f.length; j++) next[i + j] += out[i] * f[j];
    out = next;
  }
  return out;
}

/**
 * Dense-output rows in P form from polynomials b_i(θ) given constant-first (b_i(0) must be 0): drops the
 * constant term so that p[i][j] multiplies θ^(j+1).
 */
export function denseRowsFromPolynomials(polys: readonly (readonly number[])[]): number[][] {
  const degree = Math.max(...polys.map((q) => q.length - 1));
  return polys.map((q) => {
    const row = new Array<number>(degree).fill(0);
    for (let j = 1; j < q.length; j++) row[j - 1] = q[j];
    return row;
  });
}

/**
 * Hairer's form of the continuous extension of DOPRI5 and DOP853 (Hairer, Nørsett & Wanner, Solving ODEs I,
 * §II.6), converted to P form:
 *   y(θ) = y0 + θ(F0 + (1−θ)(F1 + θ(F2 + (1−θ)(F3 + θ(F4 + …))))),
 * with F0 = Δy = hΣb_i k_i, F1 = h k_1 − F0, F2 = 2F0 − h(k_1 + k_new) and F_{3+r} = hΣ_i d[r][i] k_i.
 * `fsalStage` is the index of k_new = f(t0 + h, y1); `totalStages` counts main plus extra stages.
 */
export function hairerDenseRows(
  b: readonly number[],
  fsalStage: number,
  d: readonly (readonly number[])[],
  totalStages: number,
): number[][] {
  const vec = (fill: (i: number) => number) => Array.from({ length: totalStages }, (_, i) => fill(i));
  const f0 = vec((i) => (i < b.length ? b[i] : 0));
  const f1 = vec((i) => (i === 0 ? 1 : 0) - f0[i]);
  const f2 = vec((i) => 2 * f0[i] - (i === 0 ? 1 : 0) - (i === fsalStage ? 1 : 0));
  const fs = [f0, f1, f2, ...d.map((row) => vec((i) => row[i] ?? 0))];
  // Build from the innermost term outwards; each polynomial (in θ, constant-first) is a stage-vector.
  let poly: number[][] = [fs[fs.length - 1]]; // poly[j] = stage coefficients of θ^j
  for (let m = fs.length - 2; m >= 0; m--) {
    // Level m is F_m + factor·(inner): the factor is (1 − θ) after F0, F2, F4, … and θ after F1, F3, ….
    const factor = m % 2 === 0 ? [1, -1] : [0, 1];
    const next: number[][] = Array.from({ length: poly.length + 1 }, () => new Array(totalStages).fill(0));
    for (let j = 0; j < poly.length; j++) {
      for (let q = 0; q < 2; q++) {
        if (factor[q] === 0) continue;
        for (let i = 0; i < totalStages; i++) next[j + q][i] += factor[q] * poly[j][i];
      }
    }
    for (let i = 0; i < totalStages; i++) next[0][i] += fs[m][i];
    poly = next;
  }
  // Outermost factor θ: y − y0 = θ · poly(θ).
  return Array.from({ length: totalStages }, (_, i) => poly.map((coeffs) => coeffs[i]));
}
