/** Work counters of an odeint call: the forward solve and the gradient computation, kept separate. */
import { emptyStats, type SolverStats } from '../ode/types.js';

/** Counters of the backward pass. */
export interface BackwardStats extends SolverStats {
  /** Vector–Jacobian products of the dynamics (each is one recorded evaluation of f plus its backward). */
  nvjp: number;
  /** Evaluations of f without a tape (recomputed steps of 'checkpoint', f at output times for t-gradients). */
  nrecompute: number;
}

/**
 * Statistics of one odeint call, filled in place: `forward` after the solve, `backward` after the gradient
 * pass. `backward.nfe` counts every evaluation of f made by the backward pass (VJPs plus recomputation).
 */
export interface OdeStats {
  forward: SolverStats;
  backward: BackwardStats;
  /**
   * Floats the forward pass kept for the backward pass (stage inputs for 'direct', step states and step times
   * for 'checkpoint', the output states for 'adjoint'). The memory the gradient mode costs.
   */
  storedFloats: number;
  /** Largest number of floats held at once by the backward pass (recomputed segments, augmented state). */
  backwardFloats: number;
}

export function emptyBackwardStats(): BackwardStats {
  return { ...emptyStats(), nvjp: 0, nrecompute: 0 };
}

/** Fresh counters to pass as `options.stats`. */
export function createOdeStats(): OdeStats {
  return { forward: emptyStats(), backward: emptyBackwardStats(), storedFloats: 0, backwardFloats: 0 };
}

/** Copies every counter of `from` into `into` (keeps the object identity callers hold). */
export function assignStats(into: SolverStats, from: SolverStats): void {
  into.nfe = from.nfe;
  into.nsteps = from.nsteps;
  into.naccept = from.naccept;
  into.nreject = from.nreject;
  into.njev = from.njev;
  into.nlu = from.nlu;
  if (from.switches !== undefined) into.switches = from.switches;
}
