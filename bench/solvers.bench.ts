/**
 * Work–precision of the adaptive explicit methods on four non-stiff problems (Hairer, Nørsett & Wanner,
 * Solving ODEs I, §II.10): the Arenstorf orbit, Lorenz (t ∈ [0, 5]), the 1-D Brusselator with diffusion
 * α = 1/50 on 10 grid points (20 equations, non-stiff) and the Pleiades (28 equations).
 *
 * For each method and tolerance (rtol = tol, atol = 1e-3·tol): error at t1 (max |y − ref|, reference from
 * dopri8 at rtol 1e-13), evaluations of f, and µs per solve (best of repeated runs). SciPy's solve_ivp
 * RK45/DOP853 run at the same tolerances in the same invocation (python3 bench/solvers_scipy.py, timed
 * inside Python), and the speed-up of dopri5 over RK45 and dopri8 over DOP853 is printed per tolerance.
 *
 * Writes bench/out/solvers-work-precision.svg (error vs µs and error vs NFE). `--quick`: tolerances 1e-4,
 * 1e-8 only; `--problem=<name>`: one problem only. `--json`: one JSON object per line instead of tables.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Dynamics, type MethodName, solveIvp } from '../src/ode/index.js';
import type { BenchOptions } from './run.js';
import { type PlotPanel, workPrecisionSvg } from './work-precision-svg.js';

interface Problem {
  readonly name: string;
  readonly f: Dynamics;
  readonly t1: number;
  readonly y0: readonly number[];
}

const MU = 0.012277471;
const ARENSTORF: Problem = {
  name: 'arenstorf',
  f: (_t, y, d) => {
    const x = y[0];
    const yy = y[1];
    const a = x + MU;
    const b = x - 1 + MU;
    const d1 = (a * a + yy * yy) ** 1.5;
    const d2 = (b * b + yy * yy) ** 1.5;
    d[0] = y[2];
    d[1] = y[3];
    d[2] = x + 2 * y[3] - ((1 - MU) * a) / d1 - (MU * b) / d2;
    d[3] = yy - 2 * y[2] - ((1 - MU) * yy) / d1 - (MU * yy) / d2;
  },
  t1: 17.065216560157964,
  y0: [0.994, 0, 0, -2.0015851063790824],
};

const LORENZ: Problem = {
  name: 'lorenz',
  f: (_t, y, d) => {
    d[0] = 10 * (y[1] - y[0]);
    d[1] = y[0] * (28 - y[2]) - y[1];
    d[2] = y[0] * y[1] - (8 / 3) * y[2];
  },
  t1: 5,
  y0: [1, 1, 1],
};

const BRUSS_N = 10;
const BRUSS_C = (1 / 50) * (BRUSS_N + 1) ** 2;
const BRUSSELATOR: Problem = {
  name: 'brusselator',
  f: (_t, y, d) => {
    const n = BRUSS_N;
    for (let i = 0; i < n; i++) {
      const u = y[i];
      const v = y[n + i];
      const uL = i === 0 ? 1 : y[i - 1];
      const uR = i === n - 1 ? 1 : y[i + 1];
      const vL = i === 0 ? 3 : y[n + i - 1];
      const vR = i === n - 1 ? 3 : y[n + i + 1];
      const uuv = u * u * v;
      d[i] = 1 + uuv - 4 * u + BRUSS_C * (uL - 2 * u + uR);
      d[n + i] = 3 * u - uuv + BRUSS_C * (vL - 2 * v + vR);
    }
  },
  t1: 10,
  y0: [
    ...Array.from({ length: BRUSS_N }, (_, i) => 1 + Math.sin((2 * Math.PI * (i + 1)) / (BRUSS_N + 1))),
    ...Array.from({ length: BRUSS_N }, () => 3),
  ],
};

const PLEIADES: Problem = {
  name: 'pleiades',
  f: (_t, y, d) => {
    for (let i = 0; i < 7; i++) {
      d[i] = y[14 + i];
      d[7 + i] = y[21 + i];
      let ax = 0;
      let ay = 0;
      for (let j = 0; j < 7; j++) {
        if (j === i) continue;
        const dx = y[j] - y[i];
        const dy = y[7 + j] - y[7 + i];
        const r2 = dx * dx + dy * dy;
        const w = (j + 1) / (r2 * Math.sqrt(r2));
        ax += w * dx;
        ay += w * dy;
      }
      d[14 + i] = ax;
      d[21 + i] = ay;
    }
  },
  t1: 3,
  y0: [3, 3, -1, -3, 2, -2, 2, 3, -3, 2, 0, 0, -4, 4, 0, 0, 0, 0, 0, 1.75, -1.5, 0, 0, 0, -1.25, 1, 0, 0],
};

const ALL_PROBLEMS = [ARENSTORF, LORENZ, BRUSSELATOR, PLEIADES];

/** Tolerances per method: the low-order methods stop where their cost explodes. */
function tolerancesFor(method: MethodName, quick: boolean): number[] {
  const all = quick ? [1e-4, 1e-8] : [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10];
  const tightest: Partial<Record<MethodName, number>> = { 'heun-euler': 1e-6, fehlberg2: 1e-6, bosh3: 1e-8 };
  return all.filter((tol) => tol >= (tightest[method] ?? 0));
}

const METHODS: MethodName[] = ['heun-euler', 'fehlberg2', 'bosh3', 'dopri5', 'tsit5', 'dopri8', 'adams'];
const SCIPY_PAIRS: [string, MethodName][] = [
  ['RK45', 'dopri5'],
  ['DOP853', 'dopri8'],
];

interface Row {
  suite: 'solvers';
  problem: string;
  method: string;
  rtol: number;
  atol: number;
  success: boolean;
  error: number;
  nfe: number;
  steps: number;
  microseconds: number;
}

function errorAt(y: ArrayLike<number>, ref: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]));
  return worst;
}

function measure(problem: Problem, method: MethodName, rtol: number, ref: Float64Array): Row {
  const options = { method, rtol, atol: rtol * 1e-3, maxSteps: 10_000_000, throwOnFailure: false } as const;
  const first = solveIvp(problem.f, [0, problem.t1], problem.y0, options);
  let best = Number.POSITIVE_INFINITY;
  let spent = 0;
  for (let run = 0; run < 2000 && (run < 3 || spent < 150); run++) {
    const start = performance.now();
    solveIvp(problem.f, [0, problem.t1], problem.y0, options);
    const ms = performance.now() - start;
    spent += ms;
    best = Math.min(best, ms);
  }
  return {
    suite: 'solvers',
    problem: problem.name,
    method,
    rtol,
    atol: rtol * 1e-3,
    success: first.success,
    error: errorAt(first.y[first.y.length - 1], ref),
    nfe: first.stats.nfe,
    steps: first.stats.naccept,
    microseconds: best * 1000,
  };
}

function scipyRows(
  requests: { problem: string; method: string; rtol: number; atol: number }[],
  refs: Map<string, Float64Array>,
): Row[] {
  const here = dirname(fileURLToPath(import.meta.url));
  try {
    const out = execFileSync('python3', [join(here, 'solvers_scipy.py')], {
      input: JSON.stringify(requests),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return out
      .trim()
      .split('\n')
      .map((line) => {
        const r = JSON.parse(line) as {
          problem: string;
          method: string;
          rtol: number;
          atol: number;
          nfev: number;
          success: boolean;
          y1: number[];
          microseconds: number;
        };
        return {
          suite: 'solvers' as const,
          problem: r.problem,
          method: `scipy ${r.method}`,
          rtol: r.rtol,
          atol: r.atol,
          success: r.success,
          error: errorAt(r.y1, refs.get(r.problem)!),
          nfe: r.nfev,
          steps: Number.NaN,
          microseconds: r.microseconds,
        };
      });
  } catch (err) {
    console.error(`solvers bench: SciPy comparison skipped (${(err as Error).message.split('\n')[0]})`);
    return [];
  }
}

function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toExponential(digits) : String(x);
}

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const only = options.args.find((a) => a.startsWith('--problem='))?.slice('--problem='.length);
  const PROBLEMS = ALL_PROBLEMS.filter((p) => only === undefined || p.name === only);
  const refs = new Map<string, Float64Array>();
  for (const p of PROBLEMS) {
    const r = solveIvp(p.f, [0, p.t1], p.y0, {
      method: 'dopri8',
      rtol: 1e-13,
      atol: 1e-16,
      maxSteps: 10_000_000,
    });
    refs.set(p.name, Float64Array.from(r.y[r.y.length - 1]));
  }
  const rows: Row[] = [];
  for (const p of PROBLEMS) {
    for (const method of METHODS) {
      for (const tol of tolerancesFor(method, quick)) rows.push(measure(p, method, tol, refs.get(p.name)!));
    }
  }
  const requests = PROBLEMS.flatMap((p) =>
    SCIPY_PAIRS.flatMap(([scipy, ours]) =>
      tolerancesFor(ours, quick).map((tol) => ({
        problem: p.name,
        method: scipy,
        rtol: tol,
        atol: tol * 1e-3,
      })),
    ),
  );
  rows.push(...scipyRows(requests, refs));

  // Speed-ups at equal method and tolerance.
  const speedups = PROBLEMS.flatMap((p) =>
    SCIPY_PAIRS.flatMap(([scipy, ours]) =>
      tolerancesFor(ours, quick).flatMap((tol) => {
        const a = rows.find((r) => r.problem === p.name && r.method === ours && r.rtol === tol);
        const b = rows.find((r) => r.problem === p.name && r.method === `scipy ${scipy}` && r.rtol === tol);
        if (a === undefined || b === undefined) return [];
        return [
          {
            problem: p.name,
            pair: `${ours} vs ${scipy}`,
            rtol: tol,
            speedup: b.microseconds / a.microseconds,
            nfe: a.nfe,
            nfeScipy: b.nfe,
          },
        ];
      }),
    ),
  );

  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = join(here, 'out');
  mkdirSync(outDir, { recursive: true });
  const panels = (y: (r: Row) => number): PlotPanel[] =>
    PROBLEMS.map((p) => ({
      title: p.name,
      series: [...new Set(rows.filter((r) => r.problem === p.name).map((r) => r.method))].map((method) => ({
        label: method,
        dashed: method.startsWith('scipy'),
        points: rows
          .filter((r) => r.problem === p.name && r.method === method && r.success)
          .map((r) => [Math.max(r.error, 1e-16), y(r)] as const),
      })),
    }));
  const svgPath = join(outDir, 'solvers-work-precision.svg');
  writeFileSync(
    svgPath,
    workPrecisionSvg(
      panels((r) => r.microseconds),
      'error at t1',
      'µs per solve',
    ),
  );
  writeFileSync(
    join(outDir, 'solvers-work-precision-nfe.svg'),
    workPrecisionSvg(
      panels((r) => r.nfe),
      'error at t1',
      'evaluations of f',
    ),
  );

  if (options.json) {
    for (const row of rows) console.log(JSON.stringify(row));
    for (const s of speedups) console.log(JSON.stringify({ suite: 'solvers', kind: 'speedup', ...s }));
    return;
  }
  const header = ['problem', 'method', 'rtol', 'error', 'nfe', 'steps', 'µs/solve'];
  const widths = [12, 14, 8, 10, 9, 8, 11];
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join(' ');
  console.log(line(header));
  let last = '';
  for (const r of rows) {
    const key = `${r.problem}/${r.method}`;
    if (last !== '' && key.split('/')[0] !== last.split('/')[0]) console.log('');
    last = key;
    console.log(
      line([
        r.problem,
        r.method,
        r.rtol.toExponential(0),
        r.success ? fmt(r.error) : 'failed',
        String(r.nfe),
        Number.isNaN(r.steps) ? '-' : String(r.steps),
        r.microseconds.toFixed(1),
      ]),
    );
  }
  console.log('\nspeed-up over SciPy at equal method and tolerance (SciPy µs / ours µs), NFE ours/SciPy:');
  for (const s of speedups) {
    console.log(
      `  ${s.problem.padEnd(12)} ${s.pair.padEnd(18)} rtol ${s.rtol.toExponential(0)}  ${s.speedup.toFixed(0).padStart(5)}×   nfe ${s.nfe}/${s.nfeScipy}`,
    );
  }
  console.log(`\nwork–precision plots: ${svgPath} (and -nfe.svg)`);
}
