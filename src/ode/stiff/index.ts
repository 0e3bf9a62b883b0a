/**
 * Implicit methods for stiff problems, registered with `solveIvp` by name:
 *  - `'bdf'`: variable-order BDF/NDF (orders 1–5), cheapest per step, best for large systems and loose to
 *    moderate tolerances;
 *  - `'radau'`: Radau IIA order 5, L-stable, best at tight tolerances and for strongly stiff problems;
 *  - `'rodas'`: RODAS4 Rosenbrock order 4, no Newton iteration, good at moderate tolerances;
 *  - `'auto'`: starts non-stiff and switches to `'radau'` (`'rodas'` when every rtol ≥ 1e-5 and the
 *    Jacobian is analytic) and back as stiffness comes and goes.
 */
import type { MethodFactory } from '../types.js';
import { createAutoMethod } from './auto.js';
import { bdfMethod } from './bdf.js';
import { radauMethod } from './radau.js';
import { rodasMethod } from './rodas.js';

export { type AutoOptions, createAutoMethod } from './auto.js';
export { type BdfOptions, bdfMethod, createBdfMethod } from './bdf.js';
export { JacobianEvaluator } from './jacobian.js';
export { createRadauMethod, type RadauOptions, radauMethod } from './radau.js';
export { createRodasMethod, type RodasOptions, rodasMethod } from './rodas.js';

export const STIFF_METHODS: readonly MethodFactory[] = [bdfMethod, radauMethod, rodasMethod];

/**
 * STIFF_METHODS plus `'auto'` built on the given non-stiff method (Dormand–Prince 5(4) is the intended one).
 * `'auto'` needs an explicit method, which lives outside this directory; taking it as an argument lets the
 * method registry wire it without an import cycle.
 */
export function stiffMethodsWithAuto(nonstiff: MethodFactory): readonly MethodFactory[] {
  return [...STIFF_METHODS, createAutoMethod({ nonstiff, stiff: radauMethod, stiffLoose: rodasMethod })];
}
