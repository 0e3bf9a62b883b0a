import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentRegistry, runCli } from '../src/cli/index.js';
import { spiralData, spiralExperiment } from '../src/experiments/spiral/index.js';
import { decodeSafetensors } from '../src/io/safetensors.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'neuralode', ...args], {
    registry: new ExperimentRegistry().register(spiralExperiment),
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: {},
  });
  return { code, stdout, stderr };
}

function finalParameters(runDir: string): Map<string, number[]> {
  const latest = JSON.parse(readFileSync(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8'));
  const dir = path.join(runDir, 'checkpoints', latest.checkpoint ?? latest.dir ?? latest.name);
  const file = readFileSync(path.join(dir, 'params.safetensors'));
  const decoded = decodeSafetensors(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
  return new Map([...decoded.tensors].map(([k, v]) => [k, Array.from(v.data as Float64Array)]));
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'spiral-'));
const quick = ['--batch-size', '8', '--eval-every', '10', '--skip-figures', '--json', '--progress', 'off'];

describe('spiral experiment', () => {
  it('generates the true trajectory of dy/dt = A y³ from y(0) = [2, 0]', () => {
    const { t, y } = spiralData(200);
    expect(t[0]).toBe(0);
    expect(t[199]).toBeCloseTo(25, 12);
    expect([y[0], y[1]]).toEqual([2, 0]);
    // A has a damping part: the cubic energy |y|_4^4 decreases monotonically along the solution.
    let previous = Infinity;
    for (let i = 0; i < 200; i++) {
      const e = y[2 * i] ** 4 + y[2 * i + 1] ** 4;
      expect(e).toBeLessThan(previous);
      previous = e;
    }
  });

  it('learns: the whole-trajectory loss falls and the JSON summary has the documented fields', async () => {
    const out = path.join(tmp(), 'run');
    const r = await cli('train', 'spiral', '--iters', '80', '--out', out, ...quick);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]).summary;
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining([
        'experiment',
        'iters',
        'ms_per_iter',
        'step_ms_per_iter',
        'final_loss',
        'smoothed_loss',
        'nfe_forward_mean',
        'nfe_backward_mean',
        'gradient',
      ]),
    );
    expect(summary).toMatchObject({ experiment: 'spiral', iters: 80, gradient: 'direct' });
    expect(summary.final_loss).toBeLessThan(0.6 * summary.initial_loss);
    // The smoothed loss is the mean of the last ten whole-trajectory losses (iterations 10, 20, ..., 80).
    const evals = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.trajectoryLoss !== undefined)
      .map((m) => m.trajectoryLoss as number);
    expect(evals).toHaveLength(8);
    expect(summary.smoothed_loss).toBeCloseTo(evals.reduce((a, b) => a + b, 0) / evals.length, 12);
    expect(summary.ms_per_iter).toBeGreaterThanOrEqual(summary.step_ms_per_iter);
    expect(summary.nfe_forward_mean).toBeGreaterThan(0);
    expect(summary.nfe_backward_mean).toBeGreaterThan(0);
    const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(metrics).toHaveLength(80);
  });

  it('a run stopped and resumed ends with the same parameters as an uninterrupted run', async () => {
    const whole = path.join(tmp(), 'whole');
    const part = path.join(tmp(), 'part');
    expect((await cli('train', 'spiral', '--iters', '30', '--out', whole, ...quick)).code).toBe(0);
    expect((await cli('train', 'spiral', '--iters', '15', '--out', part, ...quick)).code).toBe(0);
    const resumed = await cli('train', 'spiral', '--resume', part, '--iters', '30', ...quick);
    expect(resumed.code).toBe(0);
    expect(finalParameters(part)).toEqual(finalParameters(whole));
  });

  it.each(['adjoint', 'checkpoint'])('trains with --gradient %s', async (mode) => {
    const out = path.join(tmp(), mode);
    const r = await cli('train', 'spiral', '--iters', '4', '--gradient', mode, '--out', out, ...quick);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout).summary;
    expect(summary.gradient).toBe(mode);
    expect(Number.isFinite(summary.final_loss)).toBe(true);
    expect(summary.nfe_backward_mean).toBeGreaterThan(0);
  });

  it('rejects a window longer than the data with the option names', async () => {
    const r = await cli(
      'train',
      'spiral',
      '--data-size',
      '20',
      '--batch-time',
      '30',
      '--out',
      path.join(tmp(), 'x'),
      ...quick,
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/--batch-time \(30\) must not exceed --data-size \(20\)/);
  });
});
