import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentRegistry, experiments, option, runCli } from '../src/cli/index.js';
import { loadCheckpoint } from '../src/run/index.js';
import { toyExperiment, toyRegistry } from './cli-fixture-toy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const tsx = path.join(repo, 'node_modules', '.bin', 'tsx');
const fixture = path.join(here, 'cli-fixture-toy.ts');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'neuralode-cli-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(tmpRoot, `run-${counter++}`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with the toy registry and captured output. */
async function cli(...args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'neuralode', ...args], {
    registry: toyRegistry(),
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: {},
  });
  return { code, stdout, stderr };
}

function finalTheta(runDir: string): number[] {
  return Array.from(loadCheckpoint(runDir).params.get('theta')!.data);
}

describe('neuralode train (in process)', () => {
  it('--json prints exactly one JSON line with the summary and writes config, metrics and checkpoints', async () => {
    const out = freshDir();
    const r = await cli(
      'train',
      'quadratic',
      '--out',
      out,
      '--iters',
      '30',
      '--seed',
      '4',
      '--json',
      '--plot',
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const summary = JSON.parse(lines[0]);
    expect(summary).toMatchObject({
      experiment: 'quadratic',
      status: 'completed',
      iterations: 30,
      totalIterations: 30,
      seed: 4,
      runDir: out,
    });
    expect(summary.summary.finalLoss).toBeLessThan(0.05);
    expect(summary.outputs.checkpoint).toBe(path.join(out, 'checkpoints', 'iter-00000030'));
    expect(summary.outputs.figures).toEqual([
      path.join(out, 'figures', 'loss.svg'),
      path.join(out, 'figures', 'loss.png'),
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(summary);

    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ experiment: 'quadratic', seed: 4, iters: 30, lr: 0.1, batchSize: 8, out });
    const metrics = fs
      .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.iter)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(metrics[19]).toHaveProperty('fullLoss');
    expect(typeof metrics[0].loss).toBe('number');
    // Periodic checkpoints every 10 iterations (the experiment's default); the last three are kept.
    expect(fs.readdirSync(path.join(out, 'checkpoints')).filter((d) => d.startsWith('iter-'))).toEqual([
      'iter-00000010',
      'iter-00000020',
      'iter-00000030',
    ]);
    const png = pngjs.PNG.sync.read(fs.readFileSync(path.join(out, 'figures', 'loss.png')));
    expect([png.width, png.height]).toEqual([640, 480]);
    // Progress went to stderr as plain lines (not a TTY).
    expect(r.stderr).toMatch(/\[quadratic\] iter 30\/30 \(100%\)/);
  });

  it('a human summary lists the outputs when --json is not given', async () => {
    const out = freshDir();
    const r = await cli('train', 'quadratic', '--out', out, '--iters', '5');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ quadratic completed 5\/5 iterations/);
    expect(r.stdout).toContain(path.join(out, 'metrics.jsonl'));
    expect(r.stdout.includes('\u001b[')).toBe(false);
  });

  it('an in-process SIGINT stops after the iteration, checkpoints, exits 130, and --resume reaches the same parameters', async () => {
    const full = freshDir();
    expect((await cli('train', 'quadratic', '--out', full, '--iters', '45', '--json')).code).toBe(0);

    const part = freshDir();
    const stopped = await cli(
      'train',
      'quadratic',
      '--out',
      part,
      '--iters',
      '45',
      '--stop-at',
      '23',
      '--json',
    );
    expect(stopped.code).toBe(130);
    const s = JSON.parse(stopped.stdout);
    expect(s).toMatchObject({ status: 'stopped', stopReason: 'SIGINT', iterations: 23 });
    expect(stopped.stderr).toMatch(/SIGINT: finishing the current iteration/);
    expect(loadCheckpoint(part).iteration).toBe(23);

    const resumed = await cli('train', 'quadratic', '--resume', part, '--stop-at', '-1', '--json');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed', iterations: 45, runDir: part });
    expect(finalTheta(part)).toEqual(finalTheta(full));
    // The metrics log describes one history: iterations 1..45 once each.
    const iters = fs
      .readFileSync(path.join(part, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).iter);
    expect(iters).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
  });

  it('refuses to resume with a different config or from a corrupt checkpoint (exit 1, file named)', async () => {
    const out = freshDir();
    expect((await cli('train', 'quadratic', '--out', out, '--iters', '10')).code).toBe(0);
    const mismatch = await cli(
      'train',
      'quadratic',
      '--resume',
      out,
      '--lr',
      '0.05',
      '--iters',
      '20',
      '--json',
    );
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(
      /checkpoint\.json: the checkpoint was written with a different config \(lr: checkpoint 0\.1, now 0\.05\)/,
    );
    expect(JSON.parse(mismatch.stdout)).toMatchObject({
      status: 'failed',
      error: { code: 'checkpointConfigMismatch' },
    });

    // Options that do not affect the result may change on resume; so may the iteration budget.
    const ok = await cli(
      'train',
      'quadratic',
      '--resume',
      out,
      '--iters',
      '12',
      '--step-delay-ms',
      '0',
      '--json',
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).iterations).toBe(12);

    const params = path.join(out, 'checkpoints', 'iter-00000012', 'params.safetensors');
    const bytes = fs.readFileSync(params);
    bytes[bytes.length - 3] ^= 1;
    fs.writeFileSync(params, bytes);
    const corrupt = await cli('train', 'quadratic', '--resume', out, '--iters', '20');
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain(`${params}: checksum mismatch`);

    const again = await cli('train', 'quadratic', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a run \(config\.json exists\); resume it with --resume/);

    const missing = await cli('train', 'quadratic', '--resume', path.join(out, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope: no such file or directory/);
  });

  it('bad option values and unknown names are usage errors (exit 2) with clear messages', async () => {
    const cases: [string[], RegExp][] = [
      [['--lr', 'abc'], /option '--lr <x>' argument 'abc' is invalid\. expected a finite number, got 'abc'/],
      [['--lr', '0'], /argument '0' is invalid\. expected a number > 0/],
      [['--batch-size', '2.5'], /'--batch-size <n>' argument '2\.5' is invalid\. expected an integer/],
      [['--seed', '-1'], /'--seed <n>' argument '-1' is invalid\. expected an integer >= 0/],
      [['--progress', 'fancy'], /expected one of auto, bar, lines, off; got 'fancy'/],
      [['--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('train', 'quadratic', '--out', freshDir(), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const bare = await cli('train');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: neuralode train/);
    const unknown = await cli('train', 'nosuch');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'nosuch'/);
  });

  it('--help lists every option with its default, and the top-level help lists experiments', async () => {
    const help = await cli('train', 'quadratic', '--help');
    expect(help.code).toBe(0);
    for (const [flag, def] of [
      ['--seed <n>', '(default: 0)'],
      ['--iters <n>', '(default: 60)'],
      ['--checkpoint-every <n>', '(default: 10)'],
      ['--out <dir>', '(default: runs/quadratic-<timestamp>)'],
      ['--json', '(default: false)'],
      ['--progress <mode>', '(default: "auto")'],
      ['--lr <x>', '(default: 0.1)'],
      ['--batch-size <n>', '(default: 8)'],
    ]) {
      const line = help.stdout.split('\n').find((l) => l.trimStart().startsWith(flag));
      expect(line, flag).toBeDefined();
      expect(help.stdout.slice(help.stdout.indexOf(flag)).replace(/\s+/g, ' ')).toContain(def);
    }
    expect(help.stdout).toContain('--resume <dir>');
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/quadratic\s+Fit a 3-parameter quadratic/);
    expect(top.stdout).toMatch(/train/);
  });

  it('the product registry has no experiments registered by tests, and registration is validated', () => {
    expect(experiments.get('quadratic')).toBeUndefined();
    const reg = new ExperimentRegistry();
    reg.register(toyExperiment);
    expect(() => reg.register(toyExperiment)).toThrow(/already registered/);
    expect(() => reg.register(toyExperiment)).toThrow(expect.objectContaining({ code: 'invalidExperiment' }));
    expect(() => reg.register({ ...toyExperiment, name: 'Bad Name' })).toThrow(/lower-case/);
    const badKey = new ExperimentRegistry().register({
      name: 'bad-key',
      description: 'an option whose key does not match its flag',
      defaultIters: 1,
      options: { learningRate: option.number('--lr <x>', 'lr', 1) },
      run: () => ({}),
    });
    return expect(
      runCli(['node', 'neuralode', 'train', 'bad-key'], {
        registry: badKey,
        stdout: { write: () => true },
        stderr: { write: () => true },
      }),
    ).rejects.toThrow(/option key 'learningRate' must equal the camelCase name of '--lr <x>' \('lr'\)/);
  });
});

function spawnCli(
  args: string[],
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    // Node itself with tsx as a loader (not the tsx CLI, which relays signals to a child process and kills it
    // when the child is slow to acknowledge, as on a loaded machine): the signal reaches our handler directly.
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('neuralode train (child process)', () => {
  it('a real SIGINT checkpoints and exits 130; --resume ends with the parameters of an uninterrupted run', async () => {
    const full = freshDir();
    const part = freshDir();
    const args = ['train', 'quadratic', '--iters', '300', '--seed', '9', '--json', '--progress', 'lines'];
    const [uninterrupted, stopped] = await Promise.all([
      spawnCli([...args, '--out', full]),
      (async () => {
        let sent = false;
        return spawnCli([...args, '--out', part, '--step-delay-ms', '4'], (_text, child) => {
          // Interrupt once training is under way: the first progress line comes at the start, then wait for
          // the first metrics line.
          if (sent) return;
          sent = true;
          const poll = setInterval(() => {
            if (fs.existsSync(path.join(part, 'metrics.jsonl'))) {
              clearInterval(poll);
              setTimeout(() => child.kill('SIGINT'), 100);
            }
          }, 10);
        });
      })(),
    ]);
    expect(uninterrupted.code).toBe(0);
    expect(stopped.code).toBe(130);
    const lines = stopped.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]);
    expect(summary.status).toBe('stopped');
    expect(summary.iterations).toBeGreaterThan(0);
    expect(summary.iterations).toBeLessThan(300);
    expect(loadCheckpoint(part).iteration).toBe(summary.iterations);

    const resumed = await spawnCli([
      'train',
      'quadratic',
      '--resume',
      part,
      '--step-delay-ms',
      '0',
      '--json',
    ]);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed', iterations: 300 });
    expect(finalTheta(part)).toEqual(finalTheta(full));
  });

  it('neuralode --help (the real bin) lists the train command and the built-in experiments', async () => {
    const r = await new Promise<Result>((resolve, reject) => {
      const child = spawn(tsx, [path.join(repo, 'src', 'cli', 'main.ts'), '--help'], { cwd: repo });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: neuralode/);
    expect(r.stdout).toMatch(/train/);
    expect(r.stdout).toMatch(
      /Experiments \(neuralode train[^\n]*\n(?:[^\n]*\n)* {2}spiral +Learn the spiral dynamics/,
    );
  });
});
