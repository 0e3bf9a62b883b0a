/**
 * A ball dropped from a height bounces with coefficient of restitution e: a terminal event stops the solve
 * at each impact, the velocity is reflected and scaled by e, and the solve restarts from the impact.
 *
 * Run: npx tsx examples/bouncing-ball.ts
 */
import { pathToFileURL } from 'node:url';
import { solveIvp } from '../src/index.js';

export interface BouncingBallOptions {
  readonly height?: number;
  readonly gravity?: number;
  readonly restitution?: number;
  readonly tEnd?: number;
  /** Stop after this many bounces (the bounce times accumulate geometrically: Zeno's paradox). */
  readonly maxBounces?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

export interface BouncingBallResult {
  /** Impact times. */
  readonly bounces: number[];
  /** Speeds just before each impact. */
  readonly impactSpeeds: number[];
  /** Sampled trajectory (time, height) across all flights. */
  readonly t: number[];
  readonly height: number[];
  readonly nfe: number;
}

export function simulateBouncingBall(options: BouncingBallOptions = {}): BouncingBallResult {
  const g = options.gravity ?? 9.81;
  const e = options.restitution ?? 0.8;
  const tEnd = options.tEnd ?? 10;
  const maxBounces = options.maxBounces ?? 20;
  const dynamics = (_t: number, y: Float64Array, dydt: Float64Array) => {
    dydt[0] = y[1];
    dydt[1] = -g;
  };
  const ground = { fn: (_t: number, y: Float64Array) => y[0], terminal: true, direction: -1 as const };
  let t0 = 0;
  let state = [options.height ?? 10, 0];
  const result: BouncingBallResult = { bounces: [], impactSpeeds: [], t: [], height: [], nfe: 0 };
  while (t0 < tEnd && result.bounces.length < maxBounces) {
    const flight = solveIvp(dynamics, [t0, tEnd], state, {
      events: [ground],
      rtol: options.rtol ?? 1e-10,
      atol: options.atol ?? 1e-12,
    });
    (result as { nfe: number }).nfe += flight.stats.nfe;
    flight.t.forEach((t, i) => {
      result.t.push(t);
      result.height.push(flight.y[i][0]);
    });
    if (flight.status.kind !== 'terminalEvent') break;
    const impact = flight.yEvents[0][0];
    result.bounces.push(flight.status.t);
    result.impactSpeeds.push(-impact[1]);
    t0 = flight.status.t;
    // The event leaves the ball exactly on the ground (height ≈ 0 up to the root-finding tolerance).
    state = [0, -e * impact[1]];
  }
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = simulateBouncingBall();
  console.log('bounce  time (s)   impact speed (m/s)');
  for (const [i, t] of r.bounces.entries()) {
    console.log(`${String(i + 1).padStart(6)}  ${t.toFixed(6)}   ${r.impactSpeeds[i].toFixed(6)}`);
  }
  console.log(`function evaluations: ${r.nfe}`);
}
