/**
 * Work–precision of the stiff methods on Robertson, Van der Pol (μ = 1000), HIRES and the Oregonator, side by
 * side with SciPy's Radau, BDF and LSODA (python3 bench/stiff_scipy.py, run once per invocation).
 *
 * For each problem the tolerances sweep rtol ∈ {1e-4, 1e-6, 1e-8} (`--quick`: 1e-6 only) with atol scaled
 * along (atol/rtol fixed per problem). Both sides use the analytic Jacobian, so nfe counts the same thing on
 * both: calls of f only, none for Jacobians (ours include rodas's one forward difference in t per step, and
 * both include the initial-step probe). Reported per solve: error at t1
 * in tolerance units (max_i |y_i − ref_i| / (atol + rtol·|ref_i|)), nfe, njev, nlu, accepted steps and
 * wall time in µs (best of several runs).
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bdfMethod, radauMethod, rodasMethod, stiffMethodsWithAuto } from '../src/ode/stiff/index.js';
import type { MethodFactory } from '../src/ode/types.js';
import {
  STIFF_PROBLEMS,
  type StiffProblem,
  solveDirect,
  TEST_DOPRI5,
  toleranceScaledError,
} from '../test/stiff-problems.js';
import type { BenchOptions } from './run.js';

interface Row {
  problem: string;
  method: string;
  rtol: number;
  atol: number;
  success: boolean;
  error: number;
  nfe: number;
  njev: number;
  nlu: number;
  steps: number;
  microseconds: number;
}

const here = dirname(fileURLToPath(import.meta.url));

function timeSolve(method: MethodFactory, problem: StiffProblem, rtol: number, atol: number): Row {
  const settings = { rtol, atol, jacobian: problem.jacobian };
  const first = solveDirect(method, problem.f, problem.t0, problem.t1, problem.y0, settings);
  // Repeat until ~150 ms have been spent (at least 3 runs) and keep the best time.
  let best = Number.POSITIVE_INFINITY;
  let spent = 0;
  for (let run = 0; run < 200 && (run < 3 || spent < 150); run++) {
    const start = performance.now();
    solveDirect(method, problem.f, problem.t0, problem.t1, problem.y0, settings);
    const ms = performance.now() - start;
    spent += ms;
    best = Math.min(best, ms);
  }
  return {
    problem: problem.name,
    method: method.name,
    rtol,
    atol,
    success: first.outcome.kind === 'accepted',
    error: toleranceScaledError(problem, first.y, rtol, atol),
    nfe: first.stats.nfe,
    njev: first.stats.njev,
    nlu: first.stats.nlu,
    steps: first.stats.naccept,
    microseconds: best * 1000,
  };
}

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toPrecision(digits) : String(x);
}

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const rtols = quick ? [1e-6] : [1e-4, 1e-6, 1e-8];
  // 'auto' as the method registry builds it (radau, or rodas at loose tolerances), over the tests' dopri5.
  const auto = stiffMethodsWithAuto(TEST_DOPRI5).find((m) => m.name === 'auto') as MethodFactory;
  const methods: MethodFactory[] = [bdfMethod, radauMethod, rodasMethod, auto];
  const cases = STIFF_PROBLEMS.flatMap((problem) =>
    rtols.map((rtol) => ({ problem, rtol, atol: (problem.atol * rtol) / problem.rtol })),
  );

  const requests = cases.flatMap(({ problem, rtol, atol }) =>
    ['Radau', 'BDF', 'LSODA'].map((method) => ({
      problem: problem.name,
      method,
      rtol,
      atol,
      repeat: quick ? 1 : 3,
    })),
  );
  let scipyRows: Row[] = [];
  try {
    const out = execFileSync('python3', [join(here, 'stiff_scipy.py'), 'run'], {
      input: JSON.stringify(requests),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    scipyRows = out
      .trim()
      .split('\n')
      .map((line) => {
        const r = JSON.parse(line) as Row & { y1: number[] };
        const problem = STIFF_PROBLEMS.find((p) => p.name === r.problem) as StiffProblem;
        return { ...r, error: toleranceScaledError(problem, r.y1, r.rtol, r.atol), y1: undefined };
      })
      .map(({ y1: _unused, ...row }) => row as Row);
  } catch (err) {
    console.error(`stiff bench: SciPy comparison skipped (${(err as Error).message.split('\n')[0]})`);
  }

  const rows: Row[] = [];
  for (const { problem, rtol, atol } of cases) {
    for (const method of methods) rows.push(timeSolve(method, problem, rtol, atol));
    rows.push(...scipyRows.filter((r) => r.problem === problem.name && r.rtol === rtol));
  }

  if (options.json) {
    for (const row of rows) console.log(JSON.stringify({ suite: 'stiff', ...row }));
    return;
  }
  const header = ['problem', 'rtol', 'method', 'ok', 'err/tol', 'nfe', 'njev', 'nlu', 'steps', 'µs/solve'];
  const table = rows.map((r) => [
    r.problem,
    r.rtol.toExponential(0),
    r.method,
    r.success ? 'yes' : 'NO',
    fmt(r.error, 2),
    String(r.nfe),
    String(r.njev),
    String(r.nlu),
    String(r.steps),
    fmt(r.microseconds, 4),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  let last = '';
  for (const row of table) {
    const key = `${row[0]} ${row[1]}`;
    if (key !== last && last !== '') console.log('');
    last = key;
    console.log(line(row));
  }
}
