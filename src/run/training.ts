/**
 * The generic training loop: runs `step` for each iteration, logs metrics, evaluates, checkpoints, shows
 * progress and stops cleanly on a signal.
 *
 * Determinism contract: a checkpoint is only ever written *between* iterations, after iteration `k - 1` has
 * fully finished (parameters, optimizer and RNG all updated) and is labelled `k` = number of completed
 * iterations. Resuming starts at iteration index `k`, so an interrupted-and-resumed run performs exactly the
 * same sequence of steps as an uninterrupted one.
 */

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RunError } from './errors.js';
import type { Metrics, MetricsLog } from './metrics-log.js';
import type { ProgressReporter } from './progress.js';
import type { StopReason, StopSignal } from './stop-signal.js';

export interface TrainingOptions {
  /** Total number of iterations of the run (not the number still to do). */
  readonly iters: number;
  /** Index of the first iteration to run: 0 for a fresh run, the checkpoint's iteration on resume. */
  readonly startIter?: number;
  /** Performs iteration `iter` (0-based) and returns its metrics (loss, nfe, …). */
  readonly step: (iter: number) => Metrics | Promise<Metrics>;
  /** Write a metrics line every this many iterations (default 1). The last iteration is always logged. */
  readonly logEvery?: number;
  /** Call `onEval` every this many completed iterations and after the last one (default: never). */
  readonly evalEvery?: number;
  /** Evaluation (test loss, figures…); its metrics are merged into that iteration's metrics line. */
  readonly onEval?: (
    completed: number,
    metrics: Metrics,
  ) => Metrics | undefined | Promise<Metrics | undefined>;
  /** Checkpoint every this many completed iterations (default: only at the end or on stop). */
  readonly checkpointEvery?: number;
  /** Writes a checkpoint labelled `completed`. Called periodically, on stop and after the last iteration. */
  readonly saveCheckpoint?: (completed: number) => void | Promise<void>;
  readonly metricsLog?: MetricsLog;
  readonly progress?: ProgressReporter;
  readonly stop?: StopSignal;
  /** Longest time the loop runs without letting signal handlers in (default 20 ms). */
  readonly yieldEveryMs?: number;
}

export type TrainingStatus =
  | { readonly kind: 'completed' }
  | { readonly kind: 'stopped'; readonly reason: StopReason };

export interface TrainingResult {
  readonly status: TrainingStatus;
  /** Number of completed iterations (equals `iters` when completed). */
  readonly completedIters: number;
  /** Metrics of the last completed iteration (including evaluation metrics), or null if none ran. */
  readonly lastMetrics: Metrics | null;
  /** Metrics returned by the last evaluation, or null. */
  readonly lastEval: Metrics | null;
  /** Iterations at which checkpoints were written. */
  readonly checkpoints: readonly number[];
  readonly elapsedSeconds: number;
}

function checkPeriod(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new RunError('invalidArgument', `runTraining: ${name} must be a positive integer, got ${v}`);
  }
}

export async function runTraining(options: TrainingOptions): Promise<TrainingResult> {
  const { iters, step, metricsLog, progress, stop } = options;
  const startIter = options.startIter ?? 0;
  if (!Number.isInteger(iters) || iters < 0) {
    throw new RunError('invalidArgument', `runTraining: iters must be a non-negative integer, got ${iters}`);
  }
  if (!Number.isInteger(startIter) || startIter < 0 || startIter > iters) {
    throw new RunError(
      'invalidArgument',
      `runTraining: startIter must be an integer in [0, iters=${iters}], got ${startIter}`,
    );
  }
  checkPeriod('logEvery', options.logEvery);
  checkPeriod('evalEvery', options.evalEvery);
  checkPeriod('checkpointEvery', options.checkpointEvery);
  const logEvery = options.logEvery ?? 1;
  const yieldEveryMs = options.yieldEveryMs ?? 20;

  const t0 = performance.now();
  let lastYield = t0;
  let completed = startIter;
  let lastMetrics: Metrics | null = null;
  let lastEval: Metrics | null = null;
  let lastSaved = -1;
  const checkpoints: number[] = [];
  const save = async () => {
    if (!options.saveCheckpoint || lastSaved === completed) return;
    await options.saveCheckpoint(completed);
    lastSaved = completed;
    checkpoints.push(completed);
  };

  progress?.start(iters, startIter);
  let status: TrainingStatus = { kind: 'completed' };
  try {
    while (completed < iters) {
      if (stop?.requested) break;
      let metrics: Metrics = await step(completed);
      completed++;
      const isLast = completed === iters;
      if (
        options.onEval &&
        options.evalEvery !== undefined &&
        (completed % options.evalEvery === 0 || isLast)
      ) {
        const evalMetrics = await options.onEval(completed, metrics);
        if (evalMetrics) {
          lastEval = evalMetrics;
          metrics = { ...metrics, ...evalMetrics };
        }
      }
      lastMetrics = metrics;
      if (metricsLog && (completed % logEvery === 0 || isLast)) {
        metricsLog.append({ iter: completed, time: round3((performance.now() - t0) / 1000), ...metrics });
      }
      progress?.update(completed, metrics);
      if (options.checkpointEvery !== undefined && completed % options.checkpointEvery === 0) await save();
      const now = performance.now();
      if (now - lastYield >= yieldEveryMs) {
        // Let SIGINT/SIGTERM handlers run; the check happens at the top of the next iteration.
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    if (stop?.requested && completed < iters)
      status = { kind: 'stopped', reason: stop.reason ?? 'requested' };
    await save();
  } finally {
    progress?.stop();
  }
  return {
    status,
    completedIters: completed,
    lastMetrics,
    lastEval,
    checkpoints,
    elapsedSeconds: (performance.now() - t0) / 1000,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
