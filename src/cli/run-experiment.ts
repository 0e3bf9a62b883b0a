/**
 * Runs one experiment for the CLI: sets up (or reopens) the run directory, verifies a checkpoint to resume
 * from, builds the experiment's context, installs the graceful-stop handlers, and reports a summary.
 *
 * Exit codes: 0 completed; 1 failed (including a refused checkpoint); 130/143 stopped by SIGINT/SIGTERM
 * after writing a checkpoint (see src/run/stop-signal.ts). Usage errors (exit 2) are raised before this.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { Rng } from '../random/index.js';
import {
  assertConfigMatches,
  type LoadedCheckpoint,
  loadCheckpoint,
  resolveCheckpointDir,
} from '../run/checkpoint.js';
import { RunError } from '../run/errors.js';
import { CONFIG_KEYS_NOT_HASHED } from '../run/hash.js';
import {
  createProgress,
  formatDuration,
  formatMetric,
  type ProgressReporter,
  type TextSink,
} from '../run/progress.js';
import { RunDirectory } from '../run/run-directory.js';
import { withGracefulStop } from '../run/stop-signal.js';
import { runTraining, type TrainingResult } from '../run/training.js';
import { renderPng } from '../viz/png.js';
import { renderSvg } from '../viz/svg.js';
import type { AnyExperiment, CommonConfig, ExperimentContext, ExperimentSummary } from './experiments.js';
import type { Style } from './style.js';

export interface RunIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Colours for stderr (progress, errors). */
  readonly style: Style;
  /** Colours for stdout (the human summary); defaults to `style`. */
  readonly outStyle?: Style;
  /** Replaces process.exit for a forced exit on a second signal (tests). */
  readonly exit?: (code: number) => void;
}

/** The line printed by `--json`, also written to `summary.json`. */
export interface RunSummary {
  readonly experiment: string;
  readonly status: 'completed' | 'stopped' | 'failed';
  readonly stopReason?: string;
  readonly iterations: number;
  readonly totalIterations: number;
  readonly seed: number;
  readonly runDir: string | null;
  readonly resumedFrom: string | null;
  readonly elapsedSeconds: number;
  readonly outputs: Record<string, string | string[]>;
  readonly summary: ExperimentSummary;
  readonly error?: { readonly code: string; readonly message: string };
}

type Config = CommonConfig & Record<string, unknown>;

export async function runExperiment(
  experiment: AnyExperiment,
  parsed: Record<string, unknown>,
  explicitKeys: ReadonlySet<string>,
  io: RunIo,
): Promise<number> {
  const started = performance.now();
  const ignoreKeys = [
    ...CONFIG_KEYS_NOT_HASHED,
    ...Object.entries(experiment.options)
      .filter(([, spec]) => spec.affectsResult === false)
      .map(([key]) => key),
  ];
  let config = { experiment: experiment.name, ...parsed } as Config;
  const outputs: Record<string, string | string[]> = {};
  const figures: string[] = [];
  let runDir: RunDirectory | null = null;
  let checkpoint: LoadedCheckpoint | null = null;
  let training: TrainingResult | null = null;
  let latestCheckpoint: string | null = null;

  const finish = (
    status: RunSummary['status'],
    summary: ExperimentSummary,
    extra: Partial<RunSummary> = {},
  ): RunSummary => {
    if (runDir) {
      outputs.runDir = runDir.path;
      outputs.config = runDir.file('config.json');
      if (fs.existsSync(runDir.metrics.path)) outputs.metrics = runDir.metrics.path;
      if (latestCheckpoint) outputs.checkpoint = latestCheckpoint;
      if (figures.length > 0) outputs.figures = figures;
    }
    const result: RunSummary = {
      experiment: experiment.name,
      status,
      iterations: training?.completedIters ?? checkpoint?.iteration ?? 0,
      totalIterations: config.iters,
      seed: config.seed,
      runDir: runDir?.path ?? null,
      resumedFrom: checkpoint?.dir ?? null,
      elapsedSeconds: Math.round((performance.now() - started) / 10) / 100,
      outputs,
      summary,
      ...extra,
    };
    if (runDir) {
      outputs.summary = runDir.file('summary.json');
      runDir.writeJson('summary.json', result);
    }
    return result;
  };

  try {
    if (typeof config.resume === 'string') {
      const checkpointDir = resolveCheckpointDir(config.resume);
      checkpoint = loadCheckpoint(checkpointDir);
      if (checkpoint.config.experiment !== experiment.name) {
        throw new RunError(
          'checkpointConfigMismatch',
          `${path.join(checkpoint.dir, 'checkpoint.json')}: written by experiment '${String(checkpoint.config.experiment)}', ` +
            `not '${experiment.name}'`,
          checkpoint.dir,
        );
      }
      // The stored config is the base; options given explicitly on this command line override it, and the
      // result must still hash to the checkpoint's config hash.
      const overrides: Record<string, unknown> = {};
      for (const key of explicitKeys) overrides[key] = parsed[key];
      config = {
        ...(checkpoint.config as Config),
        ...overrides,
        resume: config.resume,
        json: config.json,
        progress: config.progress,
        out: explicitKeys.has('out') ? config.out : undefined,
      };
      assertConfigMatches(checkpoint, config, ignoreKeys);
      if (config.iters < checkpoint.iteration) {
        throw new RunError(
          'invalidArgument',
          `--iters ${config.iters} is less than the ${checkpoint.iteration} iterations already in ${checkpoint.dir}`,
        );
      }
      const parent = path.dirname(checkpoint.dir);
      const inferredRun = path.basename(parent) === 'checkpoints' ? path.dirname(parent) : undefined;
      runDir =
        config.out === undefined && inferredRun !== undefined
          ? RunDirectory.open(inferredRun)
          : RunDirectory.create({ experiment: experiment.name, out: config.out });
      runDir.metrics.truncateAfter(checkpoint.iteration);
    } else {
      if (config.out !== undefined && fs.existsSync(path.join(config.out, 'config.json'))) {
        // Starting afresh in a directory that holds a run would mix two histories in one metrics log.
        throw new RunError(
          'runDirectoryInvalid',
          `--out ${config.out}: already holds a run (config.json exists); resume it with --resume ${config.out} or choose another --out`,
          config.out,
        );
      }
      runDir = RunDirectory.create({ experiment: experiment.name, out: config.out });
    }
    config = { ...config, out: runDir.path };
    runDir.writeConfig(config);
  } catch (error) {
    return fail(error, io, config, finish);
  }

  const dir = runDir;
  const rng = new Rng(config.seed);
  let activeProgress: ProgressReporter | null = null;
  const log = (message: string) =>
    activeProgress ? activeProgress.log(message) : io.stderr.write(`${message}\n`);
  const makeProgress = (label?: string) =>
    createProgress({ stream: io.stderr, mode: config.progress, label: label ?? experiment.name });

  try {
    const summary = await withGracefulStop(
      async (stop) => {
        const context: ExperimentContext = {
          rng,
          runDir: dir,
          stop,
          checkpoint,
          startIter: checkpoint?.iteration ?? 0,
          log,
          progress: makeProgress,
          saveCheckpoint(state) {
            latestCheckpoint = dir.saveCheckpoint(
              { ...state, rng: state.rng ?? rng.getState() },
              { config: config as Record<string, unknown>, ignoreKeys },
            );
            return latestCheckpoint;
          },
          async train(options) {
            const progress = makeProgress();
            activeProgress = progress;
            try {
              training = await runTraining({
                startIter: checkpoint?.iteration ?? 0,
                checkpointEvery: config.checkpointEvery,
                ...options,
                iters: options.iters ?? config.iters,
                metricsLog: dir.metrics,
                progress,
                stop,
              });
              return training;
            } finally {
              activeProgress = null;
            }
          },
          saveFigure(figure, name) {
            if (!/^[A-Za-z0-9._-]+$/.test(name)) {
              throw new RunError(
                'invalidArgument',
                `saveFigure: name '${name}' may only contain letters, digits, '.', '_' and '-'`,
              );
            }
            fs.mkdirSync(dir.figuresDir, { recursive: true });
            const svg = path.join(dir.figuresDir, `${name}.svg`);
            const png = path.join(dir.figuresDir, `${name}.png`);
            writeFileAtomic(svg, renderSvg(figure));
            writeFileAtomic(png, renderPng(figure));
            figures.push(svg, png);
            return { svg, png };
          },
          recordOutput(label, file) {
            outputs[label] = file;
          },
        };
        return await experiment.run(config as never, context);
      },
      {
        exit: io.exit,
        onFirstSignal: (reason) =>
          log(
            io.style.yellow(
              `${reason}: finishing the current iteration and saving a checkpoint (send again to exit at once)`,
            ),
          ),
        onForce: (reason) => io.stderr.write(io.style.red(`${reason} again: exiting without a checkpoint\n`)),
      },
    );
    const finished = training as TrainingResult | null;
    const stopped = finished?.status.kind === 'stopped';
    const result = finish(
      stopped ? 'stopped' : 'completed',
      summary ?? {},
      stopped && finished?.status.kind === 'stopped' ? { stopReason: finished.status.reason } : {},
    );
    report(result, config, io);
    if (stopped && finished?.status.kind === 'stopped') {
      return finished.status.reason === 'SIGTERM' ? 143 : finished.status.reason === 'SIGINT' ? 130 : 0;
    }
    return 0;
  } catch (error) {
    return fail(error, io, config, finish);
  }
}

function fail(
  error: unknown,
  io: RunIo,
  config: Config,
  finish: (
    status: RunSummary['status'],
    summary: ExperimentSummary,
    extra?: Partial<RunSummary>,
  ) => RunSummary,
): number {
  const e = error as Error & { code?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'error';
  const message = e instanceof Error ? e.message : String(error);
  io.stderr.write(`${io.style.red('neuralode: error:')} ${message}\n`);
  if (!(e instanceof RunError) && e instanceof Error && e.stack)
    io.stderr.write(`${io.style.dim(e.stack)}\n`);
  let result:
    | RunSummary
    | { experiment: unknown; status: 'failed'; error: { code: string; message: string } };
  try {
    result = finish('failed', {}, { error: { code, message } });
  } catch {
    // The run directory itself is unusable; report without it.
    result = { experiment: config.experiment, status: 'failed', error: { code, message } };
  }
  if (config.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  return 1;
}

function report(result: RunSummary, config: Config, io: RunIo): void {
  if (config.json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const s = io.outStyle ?? io.style;
  const head =
    result.status === 'completed'
      ? s.green(`✔ ${result.experiment} completed ${result.iterations}/${result.totalIterations} iterations`)
      : s.yellow(
          `■ ${result.experiment} stopped (${result.stopReason}) after ${result.iterations}/${result.totalIterations} iterations`,
        );
  const lines = [`${head} in ${formatDuration(result.elapsedSeconds)}`];
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(result.summary)) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
      rows.push([k, formatMetric(v)]);
  }
  for (const [k, v] of Object.entries(result.outputs)) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) rows.push([i === 0 ? k : '', v[i]]);
    } else rows.push([k, v]);
  }
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${s.dim(k.padEnd(width))}  ${v}`);
  if (result.status === 'stopped' && result.runDir) {
    lines.push(s.cyan(`  resume with: neuralode train ${result.experiment} --resume ${result.runDir}`));
  }
  io.stdout.write(`${lines.join('\n')}\n`);
}
