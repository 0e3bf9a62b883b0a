import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/random/index.js';
import {
  configHash,
  createProgress,
  decodeState,
  encodeState,
  loadCheckpoint,
  MetricsLog,
  RunDirectory,
  RunError,
  runTraining,
  StopSignal,
  saveCheckpoint,
  timestamp,
  withGracefulStop,
} from '../src/run/index.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'neuralode-run-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(tmpRoot, `case-${counter++}`);

function expectRunError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).code).toBe(code);
    expect((e as RunError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a RunError with code ${code}`);
}

const config = { experiment: 'toy', seed: 3, lr: 0.1, iters: 100, out: '/somewhere' };

function sampleState(iteration: number) {
  const rng = new Rng(7);
  rng.normal(); // leaves a spare deviate in the state
  return {
    iteration,
    params: {
      theta: new Float64Array([1.5, -2.25, Math.PI]),
      w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    },
    optimizer: {
      step: iteration,
      m: new Float64Array([0.1, 0.2, 1e-300]),
      nested: [{ v: new Float64Array([5]) }],
      lr: 0.01,
      worst: Number.NaN,
    },
    rng: rng.getState(),
    extra: { note: 'hello', best: Number.POSITIVE_INFINITY },
  };
}

describe('checkpoints', () => {
  it('round-trip parameters, optimizer state, RNG state and iteration exactly', () => {
    const dir = freshDir();
    const state = sampleState(42);
    const written = saveCheckpoint(dir, state, { config });
    expect(path.basename(written)).toBe('iter-00000042');
    const loaded = loadCheckpoint(dir, { config });
    expect(loaded.iteration).toBe(42);
    expect(Array.from(loaded.params.get('theta')!.data)).toEqual([1.5, -2.25, Math.PI]);
    expect(loaded.params.get('w')!.shape).toEqual([2, 2]);
    expect(loaded.params.get('w')!.data).toBeInstanceOf(Float32Array);
    const opt = loaded.optimizer as typeof state.optimizer;
    expect(opt.m).toBeInstanceOf(Float64Array);
    expect(Array.from(opt.m)).toEqual([0.1, 0.2, 1e-300]);
    expect(Array.from(opt.nested[0].v)).toEqual([5]);
    expect(opt.worst).toBeNaN();
    expect(loaded.extra).toEqual({ note: 'hello', best: Number.POSITIVE_INFINITY });
    // The restored generator continues the same stream, including the cached Box–Muller deviate.
    const a = Rng.fromState(state.rng);
    const b = Rng.fromState(loaded.rng!);
    for (let i = 0; i < 5; i++) expect(b.normal()).toBe(a.normal());
  });

  it('keeps the newest checkpoints, points latest at the newest, and falls back when latest.json is stale', () => {
    const dir = freshDir();
    for (const it of [10, 20, 30, 40]) saveCheckpoint(dir, sampleState(it), { config, keep: 2 });
    expect(fs.readdirSync(dir).filter((d) => d.startsWith('iter-'))).toEqual([
      'iter-00000030',
      'iter-00000040',
    ]);
    expect(loadCheckpoint(dir).iteration).toBe(40);
    // A crash between the rename and the update of latest.json: latest names a missing directory.
    fs.writeFileSync(path.join(dir, 'latest.json'), '{"checkpoint":"iter-00000050","iteration":50}');
    expect(loadCheckpoint(dir).iteration).toBe(40);
    // A half-written temporary directory is never taken for a checkpoint and is cleaned up by the next save.
    fs.mkdirSync(path.join(dir, '.tmp-iter-00000060-1-2'));
    fs.writeFileSync(path.join(dir, '.tmp-iter-00000060-1-2', 'params.safetensors'), 'partial');
    expect(loadCheckpoint(dir).iteration).toBe(40);
    saveCheckpoint(dir, sampleState(40), { config, keep: 2 });
    expect(fs.readdirSync(dir).some((d) => d.startsWith('.tmp-'))).toBe(false);
  });

  it('refuses a corrupted file, naming the file and the problem', () => {
    const dir = freshDir();
    const cp = saveCheckpoint(dir, sampleState(5), { config });
    const params = path.join(cp, 'params.safetensors');
    const bytes = fs.readFileSync(params);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(params, bytes);
    expectRunError(() => loadCheckpoint(dir), 'checkpointCorrupt', /params\.safetensors: checksum mismatch/);
    fs.writeFileSync(params, bytes.subarray(0, 10));
    expectRunError(
      () => loadCheckpoint(dir),
      'checkpointCorrupt',
      /params\.safetensors: checksum mismatch.*10 bytes/,
    );
    fs.rmSync(params);
    expectRunError(
      () => loadCheckpoint(dir),
      'checkpointCorrupt',
      /params\.safetensors: listed in checkpoint\.json but missing/,
    );
  });

  it('refuses a damaged manifest and a missing checkpoint', () => {
    const dir = freshDir();
    const cp = saveCheckpoint(dir, sampleState(5), { config });
    fs.writeFileSync(path.join(cp, 'checkpoint.json'), '{"format":"neuralode-checkpoint",');
    expectRunError(() => loadCheckpoint(cp), 'checkpointCorrupt', /checkpoint\.json: invalid JSON/);
    fs.writeFileSync(path.join(cp, 'checkpoint.json'), '{"format":"neuralode-checkpoint","version":99}');
    expectRunError(() => loadCheckpoint(cp), 'checkpointCorrupt', /version 99 is not supported/);
    expectRunError(() => loadCheckpoint(path.join(dir, 'nope')), 'checkpointNotFound', /no such file/);
    const empty = freshDir();
    fs.mkdirSync(empty);
    expectRunError(() => loadCheckpoint(empty), 'checkpointNotFound', /no checkpoint found/);
  });

  it('refuses a config that differs in a key that affects the result, and lists the keys', () => {
    const dir = freshDir();
    saveCheckpoint(dir, sampleState(5), { config });
    // Output location and iteration budget do not change the result.
    expect(loadCheckpoint(dir, { config: { ...config, out: '/elsewhere', iters: 500 } }).iteration).toBe(5);
    expectRunError(
      () => loadCheckpoint(dir, { config: { ...config, lr: 0.2, seed: 4 } }),
      'checkpointConfigMismatch',
      /checkpoint\.json: the checkpoint was written with a different config \(lr: checkpoint 0\.1, now 0\.2; seed: checkpoint 3, now 4\)/,
    );
  });

  it('config hash ignores key order and non-result keys', () => {
    expect(configHash({ a: 1, b: { c: 2, d: 3 } })).toBe(configHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(configHash({ a: 1, out: 'x', json: true })).toBe(configHash({ a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });

  it('state codec moves typed arrays to tensors and back', () => {
    const enc = encodeState({ a: new Float64Array([1, 2]), b: [new Float32Array([3])], c: 1 }, 'opt.');
    expect(enc.tensors.map((t) => t.name)).toEqual(['opt.a', 'opt.b.0']);
    expect(enc.json).toEqual({ a: { $tensor: 'opt.a' }, b: [{ $tensor: 'opt.b.0' }], c: 1 });
    const dec = decodeState(enc.json, new Map(enc.tensors.map((t) => [t.name, t])), 'f') as {
      a: Float64Array;
    };
    expect(Array.from(dec.a)).toEqual([1, 2]);
    expect(() => encodeState({ bad: new Int32Array(2) }, '')).toThrow(/Int32Array/);
  });
});

describe('run directory and metrics', () => {
  it('creates timestamped directories without collisions and writes config.json', () => {
    const root = freshDir();
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(timestamp(now)).toBe('20260102-030405');
    const a = RunDirectory.create({ experiment: 'spiral', root, now });
    const b = RunDirectory.create({ experiment: 'spiral', root, now });
    expect(path.basename(a.path)).toBe('spiral-20260102-030405');
    expect(path.basename(b.path)).toBe('spiral-20260102-030405-2');
    a.writeConfig({ seed: 1 });
    expect(JSON.parse(fs.readFileSync(a.file('config.json'), 'utf8'))).toEqual({ seed: 1 });
    expect(() => RunDirectory.create({ experiment: '../evil', root })).toThrow(/experiment name/);
  });

  it('appends one JSON line per record, skips a torn last line and truncates after a checkpoint', () => {
    const log = new MetricsLog(path.join(fs.mkdirSync(freshDir(), { recursive: true })!, 'metrics.jsonl'));
    for (let i = 1; i <= 5; i++) log.append({ iter: i, loss: 1 / i, bad: Number.NaN });
    log.close();
    fs.appendFileSync(log.path, '{"iter":6,"lo');
    const records = log.read();
    expect(records.map((r) => r.iter)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0].bad).toBeNull();
    log.truncateAfter(3);
    expect(fs.readFileSync(log.path, 'utf8').trim().split('\n')).toHaveLength(3);
  });
});

describe('training loop', () => {
  /** A toy loop whose result depends on params, optimizer state and RNG state. */
  function toy(seed: number) {
    const rng = new Rng(seed);
    const theta = new Float64Array([1, -1]);
    const velocity = new Float64Array(2);
    const step = () => {
      const noise = rng.normal();
      for (let j = 0; j < 2; j++) {
        velocity[j] = 0.9 * velocity[j] - 0.05 * (theta[j] - noise);
        theta[j] += velocity[j];
      }
      return { loss: theta[0] ** 2 + theta[1] ** 2 };
    };
    return { rng, theta, velocity, step };
  }

  it('a run stopped and resumed from its checkpoint ends with exactly the parameters of an uninterrupted run', async () => {
    const full = toy(11);
    await runTraining({ iters: 50, step: full.step });

    const dir = freshDir();
    const first = toy(11);
    const stop = new StopSignal();
    const save = (t: ReturnType<typeof toy>) => (completed: number) => {
      saveCheckpoint(
        dir,
        {
          iteration: completed,
          params: { theta: t.theta },
          optimizer: { velocity: t.velocity },
          rng: t.rng.getState(),
        },
        { config },
      );
    };
    const r1 = await runTraining({
      iters: 50,
      step: (i) => {
        if (i === 16) stop.request('SIGINT'); // during iteration 17: it still completes
        return first.step();
      },
      stop,
      checkpointEvery: 5,
      saveCheckpoint: save(first),
    });
    expect(r1.status).toEqual({ kind: 'stopped', reason: 'SIGINT' });
    expect(r1.completedIters).toBe(17);
    expect(r1.checkpoints).toEqual([5, 10, 15, 17]);

    const cp = loadCheckpoint(dir, { config });
    const second = toy(999); // a different seed: everything must come from the checkpoint
    second.theta.set(cp.params.get('theta')!.data);
    second.velocity.set((cp.optimizer as { velocity: Float64Array }).velocity);
    second.rng.setState(cp.rng!);
    const r2 = await runTraining({
      iters: 50,
      startIter: cp.iteration,
      step: second.step,
      saveCheckpoint: save(second),
    });
    expect(r2.status.kind).toBe('completed');
    expect(r2.completedIters).toBe(50);
    expect(Array.from(second.theta)).toEqual(Array.from(full.theta));
  });

  it('logs metrics with the completed-iteration count, merges evaluations and validates its options', async () => {
    const log = new MetricsLog(path.join(fs.mkdirSync(freshDir(), { recursive: true })!, 'm.jsonl'));
    const evals: number[] = [];
    const r = await runTraining({
      iters: 7,
      step: (i) => ({ loss: i }),
      logEvery: 2,
      evalEvery: 3,
      onEval: (done) => {
        evals.push(done);
        return { val: done * 10 };
      },
      metricsLog: log,
    });
    expect(evals).toEqual([3, 6, 7]);
    const lines = log.read();
    expect(lines.map((l) => l.iter)).toEqual([2, 4, 6, 7]);
    expect(lines[2]).toMatchObject({ iter: 6, loss: 5, val: 60 });
    expect(r.lastMetrics).toMatchObject({ loss: 6, val: 70 });
    await expect(runTraining({ iters: 5, startIter: 6, step: () => ({}) })).rejects.toThrow(/startIter/);
    await expect(runTraining({ iters: 5, checkpointEvery: 0, step: () => ({}) })).rejects.toThrow(
      /checkpointEvery/,
    );
  });

  it('withGracefulStop turns the first signal into a stop request and the second into a forced exit', async () => {
    const exits: number[] = [];
    const notes: string[] = [];
    const listenersBefore = process.listenerCount('SIGTERM');
    const result = await withGracefulStop(
      async (stop) => {
        expect(stop.requested).toBe(false);
        process.emit('SIGTERM', 'SIGTERM');
        expect(stop.requested).toBe(true);
        expect(stop.reason).toBe('SIGTERM');
        expect(stop.exitCode).toBe(143);
        process.emit('SIGTERM', 'SIGTERM');
        return 'done';
      },
      {
        exit: (c) => exits.push(c),
        onFirstSignal: (r) => notes.push(`first ${r}`),
        onForce: (r) => notes.push(`force ${r}`),
      },
    );
    expect(result).toBe('done');
    expect(exits).toEqual([143]);
    expect(notes).toEqual(['first SIGTERM', 'force SIGTERM']);
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });
});

describe('progress', () => {
  it('falls back to plain lines at most every interval when the stream is not a terminal', () => {
    let out = '';
    let now = 0;
    const p = createProgress({
      stream: { write: (s: string) => (out += s), isTTY: false },
      label: 'toy',
      intervalMs: 2000,
      now: () => now,
    });
    p.start(100);
    for (let i = 1; i <= 100; i++) {
      now += 100; // 10 iterations per second
      p.update(i, { loss: 1 / i, nfe: 26 });
    }
    p.stop();
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('[toy] iter 0/100 (0%)');
    expect(lines.length).toBe(1 + 5 + 1); // start, one line per 2 s of 10 s, final
    expect(lines[1]).toMatch(
      /^\[toy\] iter 20\/100 \(20%\) \| loss 0\.05000 \| nfe 26 \| 10 it\/s \| ETA 8\.0s$/,
    );
    expect(lines[lines.length - 1]).toMatch(/iter 100\/100 \(100%\)/);
    expect(out.includes('\u001b')).toBe(false);
  });
});
