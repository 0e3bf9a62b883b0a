/**
 * Entry point of a worker thread of {@link LatentOdePool}: holds its own {@link LatentOde} (same options,
 * its own workspace) and, on each request, computes the loss terms and gradient of its rows of the batch.
 *
 * Protocol (see latent-ode-pool.ts): the parent posts a request on the port, then sets flag[0] = 1 and
 * notifies; the worker answers on the port, then sets flag[1] = 1 and notifies. Both sides block in
 * Atomics.wait, so a training step stays synchronous.
 */

import type { MessagePort } from 'node:worker_threads';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Rng } from '../random/index.js';
import { LatentOde, type LatentOdeOptions } from './latent-ode.js';
import type { PoolRequest, PoolResponse } from './latent-ode-pool.js';

const { port, flag, options } = workerData as {
  port: MessagePort;
  flag: Int32Array;
  options: LatentOdeOptions;
};
const model = new LatentOde(options, new Rng(0));
parentPort?.postMessage('ready');

function answer(response: PoolResponse): void {
  port.postMessage(response);
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
}

for (;;) {
  Atomics.wait(flag, 0, 0);
  Atomics.store(flag, 0, 0);
  const request = receiveMessageOnPort(port)?.message as PoolRequest | undefined;
  if (request === undefined) continue;
  if (request.kind === 'exit') break;
  try {
    model.parameters.set(request.parameters);
    const terms = model.lossAndGradientWith(
      request.batch,
      request.noise,
      request.normalizer,
      request.consistencyWeight,
    );
    answer({ kind: 'result', terms, gradients: model.gradients });
  } catch (e) {
    answer({ kind: 'error', message: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
  }
}
port.close();
