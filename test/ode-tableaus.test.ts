/**
 * Tableau consistency: every Runge–Kutta order condition (one per rooted tree, Butcher's theory) up to the
 * method's order, for the propagated weights, the embedded weights and the continuous extensions; plus the
 * construction-time validation of defineTableau.
 */
import { describe, expect, it } from 'vitest';
import {
  BOSH3_TABLEAU,
  type ButcherTableau,
  DOPRI5_TABLEAU,
  DOPRI8_TABLEAU,
  defineTableau,
  EULER_TABLEAU,
  FEHLBERG2_TABLEAU,
  HEUN_EULER_TABLEAU,
  HEUN_TABLEAU,
  MIDPOINT_TABLEAU,
  RALSTON_TABLEAU,
  RK4_TABLEAU,
  RK38_TABLEAU,
  TableauError,
  TSIT5_TABLEAU,
} from '../src/ode/index.js';

/** A rooted tree as the list of its root's subtrees (canonically sorted). */
interface Tree {
  readonly children: readonly Tree[];
  readonly order: number;
  readonly key: string;
}

function makeTree(children: Tree[]): Tree {
  const sorted = [...children].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    children: sorted,
    order: 1 + sorted.reduce((s, c) => s + c.order, 0),
    key: `[${sorted.map((c) => c.key).join('')}]`,
  };
}

/** All rooted trees with up to `maxOrder` nodes, grouped by order. */
function rootedTrees(maxOrder: number): Tree[][] {
  const byOrder: Tree[][] = [[], [makeTree([])]];
  const all: Tree[] = [byOrder[1][0]];
  for (let n = 2; n <= maxOrder; n++) {
    const found = new Map<string, Tree>();
    // Multisets of smaller trees (non-decreasing index into `all`) with orders summing to n − 1.
    const extend = (start: number, remaining: number, chosen: Tree[]) => {
      if (remaining === 0) {
        const t = makeTree(chosen);
        found.set(t.key, t);
        return;
      }
      for (let i = start; i < all.length; i++) {
        if (all[i].order <= remaining) extend(i, remaining - all[i].order, [...chosen, all[i]]);
      }
    };
    extend(0, n - 1, []);
    byOrder[n] = [...found.values()];
    all.push(...byOrder[n]);
  }
  return byOrder;
}

const TREES = rootedTrees(8);

function gamma(t: Tree): number {
  return t.children.reduce((g, c) => g * gamma(c), t.order);
}

/** Stage vector g_t with g_t[i] = Π_children Σ_j a[i][j] g_child[j]. */
function stageWeights(t: Tree, a: readonly (readonly number[])[]): number[] {
  const s = a.length;
  const out = new Array<number>(s).fill(1);
  for (const child of t.children) {
    const gc = stageWeights(child, a);
    for (let i = 0; i < s; i++) {
      let sum = 0;
      for (let j = 0; j < a[i].length; j++) sum += a[i][j] * gc[j];
      out[i] *= sum;
    }
  }
  return out;
}

/** Largest violation of Σ w_i g_t[i] = θ^|t|/γ(t) over trees of order ≤ p. */
function worstViolation(
  w: readonly number[],
  a: readonly (readonly number[])[],
  p: number,
  theta = 1,
): number {
  let worst = 0;
  for (let order = 1; order <= p; order++) {
    for (const t of TREES[order]) {
      const g = stageWeights(t, a);
      let phi = 0;
      for (let i = 0; i < w.length; i++) phi += w[i] * g[i];
      worst = Math.max(worst, Math.abs(phi - theta ** order / gamma(t)));
    }
  }
  return worst;
}

/** Smallest order p whose conditions fail (beyond roundoff): the true order is p − 1. */
function observedOrder(w: readonly number[], a: readonly (readonly number[])[]): number {
  for (let p = 1; p <= 8; p++) if (worstViolation(w, a, p) > 1e-10) return p - 1;
  return 8;
}

const TABLEAUS: [ButcherTableau, number | undefined][] = [
  [EULER_TABLEAU, undefined],
  [MIDPOINT_TABLEAU, undefined],
  [HEUN_TABLEAU, undefined],
  [RALSTON_TABLEAU, undefined],
  [RK4_TABLEAU, undefined],
  [RK38_TABLEAU, undefined],
  [HEUN_EULER_TABLEAU, 1],
  [FEHLBERG2_TABLEAU, 1],
  [BOSH3_TABLEAU, 2],
  [DOPRI5_TABLEAU, 4],
  [TSIT5_TABLEAU, 4],
  // DOP853's estimate combines a fifth-order embedded solution (bError) with a third-order one (bError2).
  [DOPRI8_TABLEAU, 5],
];

describe('rooted trees', () => {
  it('has the known number of trees per order (1, 1, 2, 4, 9, 20, 48, 115)', () => {
    expect(TREES.slice(1).map((t) => t.length)).toEqual([1, 1, 2, 4, 9, 20, 48, 115]);
  });
});

describe.each(TABLEAUS)('tableau %s', (tableau, embeddedOrder) => {
  it(`satisfies the order conditions up to order ${tableau.order} and no further`, () => {
    expect(worstViolation(tableau.b, tableau.a, tableau.order)).toBeLessThan(1e-12);
    if (tableau.order < 8) expect(observedOrder(tableau.b, tableau.a)).toBe(tableau.order);
  });

  if (embeddedOrder !== undefined) {
    it(`has an embedded solution of order ${embeddedOrder}`, () => {
      const bHat = tableau.b.map((bi, i) => bi - (tableau.bError?.[i] ?? 0));
      expect(observedOrder(bHat, tableau.a)).toBe(embeddedOrder);
    });
  }

  if (tableau.dense !== undefined) {
    it(`has a continuous extension of order ${tableau.dense.order}`, () => {
      const dense = tableau.dense!;
      const extra = dense.extraStages;
      const a = [...tableau.a, ...(extra?.a ?? [])];
      for (const theta of [0.1, 0.37, 0.5, 0.81, 1]) {
        const w = dense.p.map((row) => row.reduce((s, pj, j) => s + pj * theta ** (j + 1), 0));
        expect(worstViolation(w, a, dense.order, theta)).toBeLessThan(1e-11);
      }
      // …and not of the next order (otherwise the stated order is too modest).
      const w = dense.p.map((row) => row.reduce((s, pj, j) => s + pj * 0.37 ** (j + 1), 0));
      expect(worstViolation(w, a, dense.order + 1, 0.37)).toBeGreaterThan(1e-8);
    });
  }
});

describe('DOP853 third-order estimate', () => {
  it('b − bError2 has order 3', () => {
    const b3 = DOPRI8_TABLEAU.b.map((bi, i) => bi - DOPRI8_TABLEAU.bError2![i]);
    expect(observedOrder(b3, DOPRI8_TABLEAU.a)).toBe(3);
  });
});

describe('FSAL detection', () => {
  it('detects FSAL exactly for the methods whose last stage is the new point', () => {
    const fsal = TABLEAUS.filter(([t]) => t.fsal).map(([t]) => t.name);
    expect(fsal.sort()).toEqual(['bosh3', 'dopri5', 'dopri8', 'tsit5']);
  });
});

describe('defineTableau validation', () => {
  const base = { name: 'test', order: 2, c: [0, 1], a: [[], [1]], b: [0.5, 0.5] };
  it('accepts a consistent tableau and freezes it', () => {
    const t = defineTableau(base);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.a[1])).toBe(true);
    expect(t.adaptive).toBe(false);
  });
  it('rejects a row that does not sum to c', () => {
    expect(() => defineTableau({ ...base, a: [[], [0.9]] })).toThrow(
      /row a\[1\] sums to 0.9, not c\[1\] = 1/,
    );
  });
  it('rejects weights that do not sum to 1', () => {
    expect(() => defineTableau({ ...base, b: [0.5, 0.6] })).toThrow(TableauError);
  });
  it('rejects error weights that do not sum to 0', () => {
    expect(() => defineTableau({ ...base, errorOrder: 1, bError: [0.5, 0.4] })).toThrow(/bError sums to/);
  });
  it('rejects a dense output that does not reproduce the step at θ = 1', () => {
    expect(() =>
      defineTableau({
        ...base,
        dense: {
          order: 2,
          p: [
            [1, -0.4],
            [0, 0.5],
          ],
        },
      }),
    ).toThrow(/dense p row 0 does not sum to b\[0\]/);
  });
  it('rejects a ragged a matrix', () => {
    expect(() => defineTableau({ ...base, a: [[], [0.5, 0.5]] })).toThrow(
      /row a\[1\] has 2 entries, expected 1/,
    );
  });
});
