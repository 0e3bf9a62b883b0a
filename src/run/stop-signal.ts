/**
 * Graceful stopping on SIGINT/SIGTERM.
 *
 * The first signal only raises a flag. The training loop checks it between iterations, finishes the
 * iteration it is in, writes a checkpoint and returns; the process then exits with the conventional code for
 * the signal (130 = 128 + SIGINT, 143 = 128 + SIGTERM), so shells and job schedulers can tell an
 * interrupted run from a finished one while the run directory still holds a complete, resumable checkpoint.
 * A second signal exits at once (same code), for when the user does not want to wait.
 *
 * Signals are delivered by the event loop, so a loop that never yields cannot see them; the training loop
 * yields regularly (see training.ts).
 */

export type StopReason = 'SIGINT' | 'SIGTERM' | 'requested';

/** Exit codes used after a graceful stop. */
export const STOP_EXIT_CODES: Readonly<Record<StopReason, number>> = Object.freeze({
  SIGINT: 130,
  SIGTERM: 143,
  requested: 0,
});

export class StopSignal {
  private reasonValue: StopReason | null = null;
  private readonly listeners: Array<(reason: StopReason) => void> = [];

  /** True once a stop was requested. */
  get requested(): boolean {
    return this.reasonValue !== null;
  }

  get reason(): StopReason | null {
    return this.reasonValue;
  }

  /** The exit code for the stop reason, or 0 when no stop was requested. */
  get exitCode(): number {
    return this.reasonValue === null ? 0 : STOP_EXIT_CODES[this.reasonValue];
  }

  /** Requests a stop (idempotent: the first reason wins). */
  request(reason: StopReason = 'requested'): void {
    if (this.reasonValue !== null) return;
    this.reasonValue = reason;
    for (const l of this.listeners) l(reason);
  }

  onStop(listener: (reason: StopReason) => void): void {
    this.listeners.push(listener);
  }
}

export interface GracefulStopOptions {
  /** Called on the first signal (e.g. to print "stopping after this iteration"). */
  readonly onFirstSignal?: (reason: StopReason) => void;
  /** Called on the second signal, just before the forced exit. */
  readonly onForce?: (reason: StopReason) => void;
  /** Replaces `process.exit` for the forced exit (tests). */
  readonly exit?: (code: number) => void;
}

/**
 * Runs `body` with SIGINT/SIGTERM handlers that raise `stop`; the handlers are removed when `body` settles.
 * The caller decides the exit code (see {@link StopSignal.exitCode}) after the body has saved its state.
 */
export async function withGracefulStop<T>(
  body: (stop: StopSignal) => Promise<T> | T,
  options: GracefulStopOptions = {},
): Promise<T> {
  const stop = new StopSignal();
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const handler = (signal: NodeJS.Signals) => {
    const reason: StopReason = signal === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
    if (stop.requested) {
      options.onForce?.(reason);
      exit(STOP_EXIT_CODES[reason]);
      return;
    }
    options.onFirstSignal?.(reason);
    stop.request(reason);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await body(stop);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
