/**
 * Storage for the intermediates that 'direct' keeps of a solve (the ring of recent evaluations and the
 * saved stages), reused across solves: a fresh buffer of a few hundred kilobytes per solve makes garbage
 * collection a large part of a small model's training iteration.
 *
 * A few leases are handed out in turn. A solve's lease stays valid until that many later solves have claimed
 * leases; the backward pass checks its generation and, if the lease has been claimed again meanwhile (many
 * solves recorded before one backward, or a graph differentiated twice), evaluates f again in its VJPs
 * instead of reading saved values. The result is the same either way.
 */
import { GrowableBuffer } from './growable.js';

const POOL_SIZE = 4;
/** Leases whose saved buffer grew beyond this many floats start the next claim with a small one. */
const MAX_POOLED_FLOATS = 1 << 22;

export class SavedLease {
  generation = 0;
  saved = new GrowableBuffer(1024);
  ringStates = new Float64Array(0);
  ringTimes = new Float64Array(0);
  ringSaved = new Float64Array(0);

  /** Sizes the ring for `capacity` evaluations of a state of n floats with `size` saved floats each. */
  ensureRing(capacity: number, n: number, size: number): void {
    if (this.ringStates.length < capacity * n) this.ringStates = new Float64Array(capacity * n);
    if (this.ringTimes.length < capacity) this.ringTimes = new Float64Array(capacity);
    if (this.ringSaved.length < capacity * size) this.ringSaved = new Float64Array(capacity * size);
  }
}

const pool: SavedLease[] = [];
let next = 0;

/** The next lease in turn, emptied, with a new generation. */
export function claimLease(): SavedLease {
  let lease = pool[next];
  if (lease === undefined) {
    lease = new SavedLease();
    pool[next] = lease;
  }
  next = (next + 1) % POOL_SIZE;
  lease.generation++;
  if (lease.saved.data.length > MAX_POOLED_FLOATS) lease.saved = new GrowableBuffer(1024);
  else lease.saved.clear();
  return lease;
}
