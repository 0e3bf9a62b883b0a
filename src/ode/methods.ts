/**
 * The method registry: each name accepted by `options.method` maps to exactly one {@link MethodFactory}
 * (no aliases). Any MethodFactory instance may be passed instead of a name, which is how custom tableaus
 * (`rungeKuttaMethod(defineTableau({...}))`), Adams orders (`adamsMethod({ order: 6 })`) or stiff-method
 * options (`createBdfMethod({...})`) are used.
 */
import { adamsMethod, explicitAdamsMethod, implicitAdamsMethod } from './adams.js';
import { OdeInputError } from './errors.js';
import { rungeKuttaMethod } from './runge-kutta.js';
import { STIFF_METHODS, stiffMethodsWithAuto } from './stiff/index.js';
import { BOSH3_TABLEAU } from './tableaus/bosh3.js';
import { DOPRI5_TABLEAU } from './tableaus/dopri5.js';
import { DOPRI8_TABLEAU } from './tableaus/dopri8.js';
import { EULER_TABLEAU } from './tableaus/euler.js';
import { FEHLBERG2_TABLEAU } from './tableaus/fehlberg2.js';
import { HEUN_TABLEAU } from './tableaus/heun.js';
import { HEUN_EULER_TABLEAU } from './tableaus/heun-euler.js';
import { MIDPOINT_TABLEAU } from './tableaus/midpoint.js';
import { RALSTON_TABLEAU } from './tableaus/ralston.js';
import { RK4_TABLEAU } from './tableaus/rk4.js';
import { RK38_TABLEAU } from './tableaus/rk38.js';
import { TSIT5_TABLEAU } from './tableaus/tsit5.js';
import type { MethodFactory } from './types.js';

/** Fixed-step explicit methods (need `step`, or step between `tEval` points). */
export type FixedStepMethodName =
  | 'euler'
  | 'midpoint'
  | 'heun'
  | 'ralston'
  | 'rk4'
  | 'rk38'
  | 'explicit-adams'
  | 'implicit-adams';
/** Adaptive explicit methods. */
export type AdaptiveMethodName =
  | 'heun-euler'
  | 'fehlberg2'
  | 'bosh3'
  | 'dopri5'
  | 'tsit5'
  | 'dopri8'
  | 'adams';
/** Implicit methods for stiff problems (src/ode/stiff). */
export type StiffMethodName = 'bdf' | 'radau' | 'rodas' | 'auto';
export type MethodName = FixedStepMethodName | AdaptiveMethodName | StiffMethodName;

/** Explicit methods by name. */
export const EXPLICIT_METHODS: Readonly<Record<FixedStepMethodName | AdaptiveMethodName, MethodFactory>> =
  Object.freeze({
    euler: rungeKuttaMethod(EULER_TABLEAU),
    midpoint: rungeKuttaMethod(MIDPOINT_TABLEAU),
    heun: rungeKuttaMethod(HEUN_TABLEAU),
    ralston: rungeKuttaMethod(RALSTON_TABLEAU),
    rk4: rungeKuttaMethod(RK4_TABLEAU),
    rk38: rungeKuttaMethod(RK38_TABLEAU),
    'heun-euler': rungeKuttaMethod(HEUN_EULER_TABLEAU),
    fehlberg2: rungeKuttaMethod(FEHLBERG2_TABLEAU),
    bosh3: rungeKuttaMethod(BOSH3_TABLEAU),
    dopri5: rungeKuttaMethod(DOPRI5_TABLEAU),
    tsit5: rungeKuttaMethod(TSIT5_TABLEAU),
    dopri8: rungeKuttaMethod(DOPRI8_TABLEAU),
    adams: adamsMethod(),
    'explicit-adams': explicitAdamsMethod(),
    'implicit-adams': implicitAdamsMethod(),
  });

/**
 * `'auto'` starts with Dormand–Prince 5(4) whose own stiffness test (Hairer's) hands over to the stiff
 * method as soon as it fires, in addition to the switcher's periodic test.
 */
const STIFF_BY_NAME: ReadonlyMap<string, MethodFactory> = new Map(
  stiffMethodsWithAuto(rungeKuttaMethod(DOPRI5_TABLEAU, { onStiffness: 'fail' })).map((m) => [m.name, m]),
);

const REGISTRY: ReadonlyMap<string, MethodFactory> = new Map<string, MethodFactory>([
  ...Object.entries(EXPLICIT_METHODS),
  ...STIFF_BY_NAME,
]);

/** Every name accepted by `options.method`. */
export const METHOD_NAMES: readonly string[] = Object.freeze([...REGISTRY.keys()]);

/** Stiff-method names actually registered (the stiff module may register more or fewer than the union). */
export const STIFF_METHOD_NAMES: readonly string[] = Object.freeze([
  ...STIFF_METHODS.map((m) => m.name),
  ...[...STIFF_BY_NAME.keys()].filter((k) => !STIFF_METHODS.some((m) => m.name === k)),
]);

/** The factory for a name or instance; unknown names throw an input error listing the valid ones. */
export function resolveMethod(method: MethodName | MethodFactory | undefined): MethodFactory {
  if (method === undefined) return EXPLICIT_METHODS.dopri5;
  if (typeof method === 'object' && method !== null && typeof method.create === 'function') return method;
  const factory = typeof method === 'string' ? REGISTRY.get(method) : undefined;
  if (factory === undefined) {
    throw new OdeInputError(
      'unknownMethod',
      'options.method',
      `unknown method ${JSON.stringify(method)}; valid names: ${METHOD_NAMES.map((m) => `'${m}'`).join(', ')} (or pass a MethodFactory)`,
    );
  }
  return factory;
}
