/**
 * Data-parallel training steps of a {@link LatentOde} on Node worker threads.
 *
 * The loss is a sum over the rows of the batch, so the rows are cut into contiguous chunks: the calling
 * thread computes the first, each worker (a LatentOde of its own with the same options, see
 * latent-ode-worker.ts) one of the others, and the gradients are added in chunk order. The noise is drawn
 * once for the whole batch by the caller ({@link LatentOde.drawNoise}), so a step gives the same result for
 * any number of threads up to rounding (the order of one sum), and the same result every time for a given
 * number. A step is synchronous: requests and answers travel over message ports and each side blocks in
 * Atomics.wait until the other has posted.
 *
 * Node only (worker_threads); in a browser use `threads: 1` (the model itself has no Node dependency).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { Rng } from '../random/index.js';
import type { LatentOde, LatentOdeLoss, LatentOdeNoise, LatentOdeOptions } from './latent-ode.js';
import { type ObservationBatch, sliceRows } from './latent-ode-batch.js';

/** A request from the pool to a worker. */
export type PoolRequest =
  | {
      readonly kind: 'step';
      readonly parameters: Float64Array;
      readonly batch: ObservationBatch;
      readonly noise: LatentOdeNoise;
      readonly normalizer: number;
      readonly consistencyWeight: number;
    }
  | { readonly kind: 'exit' };

/** A worker's answer. */
export type PoolResponse =
  | { readonly kind: 'result'; readonly terms: LatentOdeLoss; readonly gradients: Float64Array }
  | { readonly kind: 'error'; readonly message: string };

/** Rows per thread below which a step runs on the calling thread alone (the copies would cost more). */
const MIN_ROWS_PER_THREAD = 32;
/** Longest wait for one worker's answer before the step fails. */
const ANSWER_TIMEOUT_MS = 10 * 60 * 1000;

interface PoolWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
  /** [0]: request posted, [1]: answer posted. */
  readonly flag: Int32Array;
}

/**
 * How to start the worker script next to this module: the compiled JavaScript, or, when running from the
 * TypeScript sources (tests, benchmarks), a small bootstrap that registers tsx in the worker and then imports
 * the TypeScript worker.
 */
function workerScript(): { source: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { source: new URL('./latent-ode-worker.js', here), eval: false };
  // The ESM build of tsx's API (require.resolve would give the CommonJS one).
  const pkg = createRequire(here).resolve('tsx/package.json');
  const api = pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
  const worker = new URL('./latent-ode-worker.ts', here).href;
  const source = `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(worker)}); })().catch((e) => { throw e; });`;
  return { source, eval: true };
}

export class LatentOdePool {
  /** Threads a step uses, the calling one included. */
  readonly threads: number;
  private readonly workers: PoolWorker[];
  private closed = false;

  private constructor(threads: number, workers: PoolWorker[]) {
    this.threads = threads;
    this.workers = workers;
  }

  /**
   * Starts `threads − 1` workers for models built with `options` and resolves once all of them are ready
   * (rejecting, with the worker's error, if one cannot start).
   */
  static async create(options: LatentOdeOptions, threads: number): Promise<LatentOdePool> {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`LatentOdePool: threads must be a positive integer, got ${threads}`);
    }
    const script = workerScript();
    const workers: PoolWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 1; i < threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const flag = new Int32Array(new SharedArrayBuffer(8));
      const worker = new Worker(script.source, {
        eval: script.eval,
        workerData: { port: port2, flag, options },
        transferList: [port2],
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', (e) =>
            reject(new Error(`LatentOdePool: worker ${i} failed to start: ${e.message}`)),
          );
          worker.once('exit', (code) =>
            reject(new Error(`LatentOdePool: worker ${i} exited with code ${code}`)),
          );
        }),
      );
      workers.push({ worker, port: port1, flag });
    }
    const pool = new LatentOdePool(threads, workers);
    try {
      await Promise.all(ready);
    } catch (e) {
      pool.close();
      throw e;
    }
    for (const w of workers) {
      w.worker.removeAllListeners('message');
      w.worker.removeAllListeners('exit');
      w.worker.unref();
    }
    return pool;
  }

  /**
   * One loss evaluation of `model` on `batch` with noise from `rng`, split across the threads; sets
   * `model.gradients`. Equal to `model.lossAndGradient(batch, rng)` up to rounding.
   */
  lossAndGradient(
    model: LatentOde,
    batch: ObservationBatch,
    rng: Rng,
    consistencyWeight: number = model.consistency,
  ): LatentOdeLoss {
    if (this.closed) throw new Error('LatentOdePool: the pool is closed');
    const rows = batch.rows;
    const noise = model.drawNoise(rows, rng);
    const chunks = Math.min(this.threads, Math.max(1, Math.floor(rows / MIN_ROWS_PER_THREAD)));
    if (chunks === 1) return model.lossAndGradientWith(batch, noise, rows, consistencyWeight);
    const bounds = Array.from({ length: chunks + 1 }, (_, i) => Math.round((i * rows) / chunks));
    const L = model.latentDim;
    const part = (i: number): [ObservationBatch, LatentOdeNoise] => {
      const [a, b] = [bounds[i], bounds[i + 1]];
      // The calling thread's part (i = 0) reads views of the batch; the workers' parts are copies that move.
      const views = i === 0;
      const cut = (x: Float64Array, from: number, to: number) =>
        views ? x.subarray(from, to) : x.slice(from, to);
      return [
        sliceRows(batch, a, b, views),
        {
          eps: cut(noise.eps, a * L, b * L),
          splits: noise.splits.length === 0 ? noise.splits : cut(noise.splits, a, b),
          prefixes: noise.prefixes.length === 0 ? noise.prefixes : cut(noise.prefixes, a, b),
        },
      ];
    };
    for (let i = 1; i < chunks; i++) {
      const [sliced, n] = part(i);
      const w = this.workers[i - 1];
      // The slices are fresh copies: their buffers move to the worker instead of being copied again.
      const b = { ...sliced, grid: sliced.grid.slice() };
      const request: PoolRequest = {
        kind: 'step',
        parameters: model.parameters,
        batch: b,
        noise: n,
        normalizer: rows,
        consistencyWeight,
      };
      const moved = [b.grid, b.index, b.values, b.windowEnd, n.eps, n.splits, n.prefixes]
        .map((a) => a.buffer as ArrayBuffer)
        .filter((buffer) => buffer.byteLength > 0);
      w.port.postMessage(request, moved);
      Atomics.store(w.flag, 0, 1);
      Atomics.notify(w.flag, 0);
    }
    const [b0, n0] = part(0);
    const terms = { ...model.lossAndGradientWith(b0, n0, rows, consistencyWeight) };
    const gradients = model.gradients;
    for (let i = 1; i < chunks; i++) {
      const answer = this.await(i);
      if (answer.kind === 'error') throw new Error(`LatentOdePool: worker ${i}: ${answer.message}`);
      for (let p = 0; p < gradients.length; p++) gradients[p] += answer.gradients[p];
      terms.loss += answer.terms.loss;
      terms.logLikelihood += answer.terms.logLikelihood;
      terms.kl += answer.terms.kl;
      terms.timesLogLikelihood += answer.terms.timesLogLikelihood;
      terms.consistency += answer.terms.consistency;
    }
    return terms;
  }

  private await(i: number): PoolResponse {
    const w = this.workers[i - 1];
    const started = Date.now();
    for (;;) {
      if (Atomics.load(w.flag, 1) === 1) {
        const message = receiveMessageOnPort(w.port);
        if (message !== undefined) {
          Atomics.store(w.flag, 1, 0);
          return message.message as PoolResponse;
        }
      }
      if (Date.now() - started > ANSWER_TIMEOUT_MS) {
        throw new Error(`LatentOdePool: worker ${i} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`);
      }
      Atomics.wait(w.flag, 1, 0, 1000);
    }
  }

  /** Stops the workers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) {
      w.port.postMessage({ kind: 'exit' } satisfies PoolRequest);
      Atomics.store(w.flag, 0, 1);
      Atomics.notify(w.flag, 0);
      w.port.close();
    }
  }
}
