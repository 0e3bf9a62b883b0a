/**
 * The experiment registry. An experiment declares its name, a one-line description, its own options and a
 * `run(config, context)` function; the CLI turns every registered experiment into a `neuralode train <name>`
 * subcommand with the common options (`--seed`, `--iters`, `--out`, `--resume`, `--json`, …) added.
 *
 * ```ts
 * experiments.register(defineExperiment({
 *   name: 'spiral',
 *   description: 'Fit a neural ODE to a 2-D spiral',
 *   defaultIters: 2000,
 *   options: { lr: option.number('--lr <x>', 'learning rate', 1e-3, { min: 0, exclusiveMin: true }) },
 *   async run(config, ctx) { …; const result = await ctx.train({ step, … }); return { finalLoss }; },
 * }));
 * ```
 */

import type { Rng, RngState } from '../random/index.js';
import type { LoadedCheckpoint } from '../run/checkpoint.js';
import { RunError } from '../run/errors.js';
import type { Metrics } from '../run/metrics-log.js';
import type { ProgressReporter } from '../run/progress.js';
import type { RunDirectory } from '../run/run-directory.js';
import type { StopSignal } from '../run/stop-signal.js';
import type { TrainingOptions, TrainingResult } from '../run/training.js';
import type { Figure } from '../viz/figure.js';
import type { OptionSpec } from './options.js';

/** Options every experiment gets. */
export interface CommonConfig {
  readonly experiment: string;
  readonly seed: number;
  readonly iters: number;
  readonly checkpointEvery: number;
  readonly out: string | undefined;
  readonly resume: string | undefined;
  readonly json: boolean;
  readonly progress: 'auto' | 'bar' | 'lines' | 'off';
}

/** The config type of an experiment whose own options are `O`. */
export type ExperimentConfig<O extends Record<string, OptionSpec>> = CommonConfig & {
  readonly [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never;
};

/** What a checkpoint needs from the experiment; the RNG state defaults to `context.rng`'s. */
export interface ExperimentCheckpoint {
  readonly iteration: number;
  readonly params: Readonly<
    Record<
      string,
      Float64Array | Float32Array | { shape: readonly number[]; data: Float64Array | Float32Array }
    >
  >;
  readonly optimizer?: unknown;
  readonly rng?: RngState;
  readonly extra?: unknown;
}

/** Everything the CLI hands to an experiment's `run`. */
export interface ExperimentContext {
  /** Seeded with `--seed`. On resume, restore it with `rng.setState(checkpoint.rng)` *after* initialising. */
  readonly rng: Rng;
  readonly runDir: RunDirectory;
  readonly stop: StopSignal;
  /** The verified checkpoint when `--resume` was given (config already checked), else null. */
  readonly checkpoint: LoadedCheckpoint | null;
  /** Where training continues: `checkpoint.iteration`, or 0. */
  readonly startIter: number;
  /** Prints a line to stderr without garbling a progress bar. */
  log(message: string): void;
  /** A progress reporter on stderr honouring `--progress` (ctx.train makes its own). */
  progress(label?: string): ProgressReporter;
  /** Writes a checkpoint for this run (config hash included; RNG state taken from `rng` when omitted). */
  saveCheckpoint(state: ExperimentCheckpoint): string;
  /**
   * {@link runTraining} wired to this run: `iters`, `startIter`, metrics.jsonl, progress, stop signal and
   * `checkpointEvery` come from the config unless given.
   */
  train(
    options: Omit<TrainingOptions, 'iters' | 'metricsLog' | 'progress' | 'stop'> & {
      readonly iters?: number;
    },
  ): Promise<TrainingResult>;
  /** Renders a figure to `figures/<name>.svg` and `figures/<name>.png`; returns both paths. */
  saveFigure(figure: Figure, name: string): { svg: string; png: string };
  /** Lists a file under `outputs` in the final summary. */
  recordOutput(label: string, file: string): void;
}

/** The summary an experiment returns: final metrics and anything worth reporting (JSON-serialisable). */
export type ExperimentSummary = Record<string, unknown>;

export interface Experiment<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** Subcommand name: lower-case letters, digits and '-'. */
  readonly name: string;
  readonly description: string;
  /** Default of `--iters`. */
  readonly defaultIters: number;
  /** Default of `--checkpoint-every` (default 100). */
  readonly defaultCheckpointEvery?: number;
  /** Own options, keyed by config name (must equal the camelCase of the long flag). */
  readonly options: O;
  run(
    config: ExperimentConfig<O>,
    context: ExperimentContext,
  ): Promise<ExperimentSummary> | ExperimentSummary;
}

/** Identity function that infers the config type of `run` from `options`. */
export function defineExperiment<O extends Record<string, OptionSpec>>(
  experiment: Experiment<O>,
): Experiment<O> {
  return experiment;
}

export type AnyExperiment = Experiment<Record<string, OptionSpec>>;

export class ExperimentRegistry {
  private readonly byName = new Map<string, AnyExperiment>();

  register<O extends Record<string, OptionSpec>>(experiment: Experiment<O>): this {
    if (!/^[a-z][a-z0-9-]*$/.test(experiment.name)) {
      throw new RunError(
        'invalidExperiment',
        `ExperimentRegistry.register: name '${experiment.name}' must be lower-case letters, digits and '-'`,
      );
    }
    if (this.byName.has(experiment.name)) {
      throw new RunError(
        'invalidExperiment',
        `ExperimentRegistry.register: an experiment named '${experiment.name}' is already registered`,
      );
    }
    if (!Number.isInteger(experiment.defaultIters) || experiment.defaultIters < 0) {
      throw new RunError(
        'invalidExperiment',
        `ExperimentRegistry.register: '${experiment.name}'.defaultIters must be a non-negative integer`,
      );
    }
    this.byName.set(experiment.name, experiment as unknown as AnyExperiment);
    return this;
  }

  get(name: string): AnyExperiment | undefined {
    return this.byName.get(name);
  }

  list(): AnyExperiment[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** The registry behind the `neuralode` command. Experiments register themselves here. */
export const experiments = new ExperimentRegistry();

export type { Metrics };
