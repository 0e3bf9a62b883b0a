/**
 * Streamlines of a planar vector field, traced with classical RK4 along the normalised direction field and
 * kept evenly spaced with an occupancy grid, in the spirit of Jobard & Lefer, "Creating evenly-spaced
 * streamlines of arbitrary density" (1997): a line stops when it enters a cell another line already passes
 * through, and a new line is only seeded in a free cell.
 */
import { VizError } from './errors.js';

/** A planar vector field: returns the velocity [u, v] at (x, y). */
export type VectorFieldFn = (x: number, y: number) => ArrayLike<number>;

export interface StreamlineOptions {
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
  /** Lines per axis scale with this (default 1: a 24 × 24 occupancy grid). */
  readonly density?: number;
  /** Step length as a fraction of a grid cell (default 0.2). */
  readonly stepFraction?: number;
  /** Maximum RK4 steps in each direction from a seed (default 2000). */
  readonly maxSteps?: number;
}

export interface Streamline {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

function checkRange(name: string, r: readonly [number, number]): void {
  if (
    !Array.isArray(r) ||
    r.length !== 2 ||
    !Number.isFinite(r[0]) ||
    !Number.isFinite(r[1]) ||
    !(r[0] < r[1])
  ) {
    throw new VizError(
      'invalidArgument',
      `streamlines: ${name} must be finite [low, high] with low < high, got ${JSON.stringify(r)}`,
    );
  }
}

/** Evenly spaced streamlines of `field` over the rectangle `xRange × yRange`. */
export function streamlines(field: VectorFieldFn, options: StreamlineOptions): Streamline[] {
  checkRange('xRange', options.xRange);
  checkRange('yRange', options.yRange);
  const density = options.density ?? 1;
  if (!(density > 0 && density <= 10))
    throw new VizError('invalidArgument', `streamlines: density must be in (0, 10], got ${density}`);
  const stepFraction = options.stepFraction ?? 0.2;
  if (!(stepFraction > 0 && stepFraction <= 1)) {
    throw new VizError('invalidArgument', `streamlines: stepFraction must be in (0, 1], got ${stepFraction}`);
  }
  const maxSteps = options.maxSteps ?? 2000;
  const [x0, x1] = options.xRange;
  const [y0, y1] = options.yRange;
  const sx = x1 - x0;
  const sy = y1 - y0;
  const n = Math.max(4, Math.round(24 * density));
  const h = stepFraction / n;
  const owner = new Int32Array(n * n).fill(-1);
  const mark = new Int32Array(n * n);
  // A line that re-enters one of its own cells this many steps after marking it has closed a loop.
  const loopSteps = Math.ceil(3 / stepFraction);

  // Direction in unit-square coordinates, normalised to unit speed; null where the field vanishes.
  const dir = (p: number, q: number): [number, number] | null => {
    const f = field(x0 + p * sx, y0 + q * sy);
    const a = f[0] / sx;
    const b = f[1] / sy;
    const m = Math.hypot(a, b);
    if (!(m > 1e-300) || !Number.isFinite(m)) return null;
    return [a / m, b / m];
  };
  const cellOf = (p: number, q: number) =>
    Math.min(n - 1, Math.floor(q * n)) * n + Math.min(n - 1, Math.floor(p * n));

  const trace = (id: number, p: number, q: number, sign: 1 | -1, firstStep: number): number[] => {
    const pts: number[] = [];
    let step = firstStep;
    for (let k = 0; k < maxSteps; k++) {
      const k1 = dir(p, q);
      if (!k1) break;
      const k2 = dir(p + 0.5 * sign * h * k1[0], q + 0.5 * sign * h * k1[1]);
      if (!k2) break;
      const k3 = dir(p + 0.5 * sign * h * k2[0], q + 0.5 * sign * h * k2[1]);
      if (!k3) break;
      const k4 = dir(p + sign * h * k3[0], q + sign * h * k3[1]);
      if (!k4) break;
      const np = p + (sign * h * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])) / 6;
      const nq = q + (sign * h * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])) / 6;
      if (!(np >= 0 && np <= 1 && nq >= 0 && nq <= 1)) break;
      step += sign;
      const c = cellOf(np, nq);
      if (owner[c] !== -1 && owner[c] !== id) break;
      if (owner[c] === id && Math.abs(step - mark[c]) > loopSteps) break;
      if (owner[c] === -1) {
        owner[c] = id;
        mark[c] = step;
      }
      p = np;
      q = nq;
      pts.push(p, q);
    }
    return pts;
  };

  const lines: Streamline[] = [];
  let id = 0;
  // Seeds at cell centres, visited from the middle outwards so the first (longest) lines cross the centre.
  const order = [...Array(n * n).keys()].sort((a, b) => {
    const da = ((a % n) + 0.5 - n / 2) ** 2 + (Math.floor(a / n) + 0.5 - n / 2) ** 2;
    const db = ((b % n) + 0.5 - n / 2) ** 2 + (Math.floor(b / n) + 0.5 - n / 2) ** 2;
    return da - db || a - b;
  });
  for (const cell of order) {
    if (owner[cell] !== -1) continue;
    const p = ((cell % n) + 0.5) / n;
    const q = (Math.floor(cell / n) + 0.5) / n;
    if (!dir(p, q)) continue;
    owner[cell] = id;
    mark[cell] = 0;
    const back = trace(id, p, q, -1, 0);
    const fwd = trace(id, p, q, 1, 0);
    const count = back.length / 2 + 1 + fwd.length / 2;
    if (count >= 4) {
      const xs = new Float64Array(count);
      const ys = new Float64Array(count);
      let k = 0;
      for (let i = back.length - 2; i >= 0; i -= 2, k++) {
        xs[k] = x0 + back[i] * sx;
        ys[k] = y0 + back[i + 1] * sy;
      }
      xs[k] = x0 + p * sx;
      ys[k] = y0 + q * sy;
      k++;
      for (let i = 0; i < fwd.length; i += 2, k++) {
        xs[k] = x0 + fwd[i] * sx;
        ys[k] = y0 + fwd[i + 1] * sy;
      }
      lines.push({ x: xs, y: ys });
    }
    id++;
  }
  return lines;
}
