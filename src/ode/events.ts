/**
 * Events: zero crossings of user functions g(t, y) located on the dense output of each step.
 *
 * After every accepted step the driver compares the sign of each g at both ends of the step. A crossing in the
 * requested direction is located by the Illinois variant of regula falsi (Dowell & Jarratt, BIT 11 (1971)
 * 168–174) on g(τ, y(τ)) with y from the step's interpolant: superlinear, never leaves the bracket, and
 * stops when the bracket is a few ulps of t wide, so the event time is as accurate as the interpolant.
 *
 * Direction is measured along the integration: +1 fires when g goes from negative to non-negative as the
 * solver advances (for a backward solve, as t decreases). A zero of g at the start of a step is not a
 * crossing; this is what lets a solve restarted exactly on an event surface (a bounce) move off it.
 */
import { inputError } from './options.js';

export interface OdeEvent {
  /** Event function g(t, y); a zero crossing is an event. `y` must not be kept. */
  readonly fn: (t: number, y: Float64Array) => number;
  /** Stop the solve at the first occurrence (`true`) or at the n-th occurrence (a positive integer). */
  readonly terminal?: boolean | number;
  /** −1: only crossings from positive to negative; +1: negative to positive; 0 (default): both. */
  readonly direction?: -1 | 0 | 1;
}

const EPS = 2.220446049250313e-16;
const MAX_ITERATIONS = 100;

export function checkEvents(events: readonly OdeEvent[] | undefined): readonly OdeEvent[] {
  if (events === undefined) return [];
  if (!Array.isArray(events))
    inputError('invalidEvent', 'options.events', 'must be an array of { fn, terminal?, direction? }');
  events.forEach((e, i) => {
    const name = `options.events[${i}]`;
    if (e === null || typeof e !== 'object' || typeof e.fn !== 'function') {
      inputError('invalidEvent', name, 'must be an object with fn: (t, y) => number');
    }
    const { terminal, direction } = e;
    if (
      terminal !== undefined &&
      typeof terminal !== 'boolean' &&
      !(typeof terminal === 'number' && Number.isInteger(terminal) && terminal >= 1)
    ) {
      inputError(
        'invalidEvent',
        `${name}.terminal`,
        `must be a boolean or a positive integer, got ${terminal}`,
      );
    }
    if (direction !== undefined && direction !== -1 && direction !== 0 && direction !== 1) {
      inputError('invalidEvent', `${name}.direction`, `must be -1, 0 or 1, got ${direction}`);
    }
  });
  return events;
}

function evalEvent(event: OdeEvent, index: number, t: number, y: Float64Array): number {
  const g = event.fn(t, y);
  if (typeof g !== 'number' || Number.isNaN(g)) {
    throw new RangeError(
      `options.events[${index}].fn returned ${g} at t = ${t}; event functions must return numbers`,
    );
  }
  return g;
}

/** Tracks signs of every event function across steps and locates crossings. */
export class EventTracker {
  readonly tEvents: number[][];
  readonly yEvents: Float64Array[][];
  private readonly gPrev: Float64Array;
  private readonly gNew: Float64Array;
  private readonly counts: Int32Array;
  private readonly limits: Int32Array;
  private readonly work: Float64Array;

  constructor(
    private readonly events: readonly OdeEvent[],
    n: number,
  ) {
    const m = events.length;
    this.tEvents = events.map(() => []);
    this.yEvents = events.map(() => []);
    this.gPrev = new Float64Array(m);
    this.gNew = new Float64Array(m);
    this.counts = new Int32Array(m);
    this.limits = Int32Array.from(events, (e) =>
      e.terminal === true ? 1 : typeof e.terminal === 'number' ? e.terminal : 0,
    );
    this.work = new Float64Array(n);
  }

  get active(): boolean {
    return this.events.length > 0;
  }

  start(t: number, y: Float64Array): void {
    for (let i = 0; i < this.events.length; i++) this.gPrev[i] = evalEvent(this.events[i], i, t, y);
  }

  /**
   * Check the step from tA to tB (caller's time) ending in state yB; `interp(t, out)` evaluates the step's
   * dense output. Records every crossing in time order up to the first terminal one and returns its index,
   * or −1 when the solve continues.
   */
  check(
    tA: number,
    tB: number,
    yB: Float64Array,
    interp: (t: number, out: Float64Array) => Float64Array,
  ): number {
    const { events, gPrev, gNew } = this;
    const m = events.length;
    const found: { t: number; i: number }[] = [];
    for (let i = 0; i < m; i++) {
      const g1 = evalEvent(events[i], i, tB, yB);
      gNew[i] = g1;
      const g0 = gPrev[i];
      const dir = events[i].direction ?? 0;
      const up = g0 < 0 && g1 >= 0;
      const down = g0 > 0 && g1 <= 0;
      if ((up && dir >= 0) || (down && dir <= 0)) {
        found.push({ t: g1 === 0 ? tB : this.locate(i, tA, tB, g0, g1, interp), i });
      }
    }
    const sign = tB >= tA ? 1 : -1;
    found.sort((a, b) => sign * (a.t - b.t));
    let terminalIndex = -1;
    for (const { t, i } of found) {
      this.tEvents[i].push(t);
      this.yEvents[i].push(t === tB ? Float64Array.from(yB) : interp(t, new Float64Array(yB.length)));
      this.counts[i]++;
      if (this.limits[i] > 0 && this.counts[i] >= this.limits[i]) {
        terminalIndex = i;
        break;
      }
    }
    this.gPrev.set(gNew);
    return terminalIndex;
  }

  /** Time of the terminal event `i` just recorded. */
  lastTime(i: number): number {
    const list = this.tEvents[i];
    return list[list.length - 1];
  }

  lastState(i: number): Float64Array {
    const list = this.yEvents[i];
    return list[list.length - 1];
  }

  /** Illinois iteration on [a, b] with g(a) = ga, g(b) = gb of opposite signs. */
  private locate(
    i: number,
    a: number,
    b: number,
    ga: number,
    gb: number,
    interp: (t: number, out: Float64Array) => Float64Array,
  ): number {
    const event = this.events[i];
    let side = 0;
    for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
      const width = Math.abs(b - a);
      if (width <= 4 * EPS * Math.max(Math.abs(a), Math.abs(b)) + 1e-300) break;
      let c = b - (gb * (b - a)) / (gb - ga);
      // Keep strictly inside the bracket (guards against roundoff and flat g).
      if (!(Math.min(a, b) < c && c < Math.max(a, b))) c = 0.5 * (a + b);
      const gc = evalEvent(event, i, c, interp(c, this.work));
      if (gc === 0) return c;
      if (gc > 0 === gb > 0) {
        b = c;
        gb = gc;
        if (side === -1) ga *= 0.5;
        side = -1;
      } else {
        a = c;
        ga = gc;
        if (side === 1) gb *= 0.5;
        side = 1;
      }
    }
    // The crossing lies in [a, b] (a is on the side of the step start): report the later end, where g has
    // already changed sign.
    return b;
  }
}
