/**
 * odeint: the solution of dy/dt = f(t, y) at given times, as a differentiable tensor.
 *
 * The solve runs on flat Float64Arrays through the same integrator as solveIvp (f evaluated without a tape
 * on a tensor view of the state). Gradients flow through ONE recorded node whose backward is the chosen
 * sensitivity method, built on a vector–Jacobian product of f:
 * - 'direct' (default): the discrete adjoint of the Runge–Kutta steps taken, from stage inputs kept during
 *   the solve. Exact gradient of the computed solution; memory grows with the number of steps.
 * - 'checkpoint': the same gradient from states kept at (at most `checkpoints`) steps; each segment is
 *   recomputed in the backward pass.
 * - 'adjoint': the continuous adjoint of Chen et al. (2018), O(1) memory in the number of steps, accurate to
 *   the tolerances of its own backward solve (`adjointOptions`, `seminorm`).
 *
 * Outputs are read from dense output, as in solveIvp with tEval (the forward stats equal solveIvp's). The
 * discrete modes differentiate that interpolant for tableaus whose dense output is a matrix over the main
 * stages (dopri5, tsit5, bosh3); for other explicit tableaus (dopri8, rk4, ...) the output times become stop
 * times so that every output is a step end. Non-Runge–Kutta methods (adams, bdf, radau, rodas, auto) work
 * without gradients and with 'adjoint'; 'direct' and 'checkpoint' reject them by name. Step sizes are
 * constants of the gradient, as in diffrax: differentiating the controller would add noise from an error
 * estimate, not information about the solution. A discontinuity declared in `jumpTimes` is evaluated from
 * the left by the forward solve but at the exact time by the VJPs (a difference of one ulp in t).
 *
 * Gradient with respect to the times: ∂L/∂tᵢ = gᵢ·f(tᵢ, z(tᵢ)) for i ≥ 1 (gᵢ the cotangent of output i).
 * For the discrete modes ∂L/∂t₀ = S − Σ_{i≥1} ∂L/∂tᵢ, where S = Σ t̄ over all stages is the sensitivity to
 * shifting every time of the solve together (0 for autonomous f). For 'adjoint' ∂L/∂t₀ = −a(t₀)·f(t₀, y₀),
 * the exact derivative of the flow with respect to its start time, a(t₀) being the adjoint at t₀.
 */
import { isGradEnabled, record } from '../autograd/node.js';
import { Module } from '../nn/module.js';
import { INTEGRATOR_OPTION_KEYS, OdeIntegrator } from '../ode/integrator.js';
import { resolveMethod } from '../ode/methods.js';
import { type IntegratorOptions, normalizeProblem } from '../ode/options.js';
import { RungeKuttaStepper } from '../ode/runge-kutta.js';
import type { ButcherTableau } from '../ode/tableau.js';
import { Tensor } from '../tensor/tensor.js';
import { adjointBackward } from './adjoint.js';
import { SensitivityError } from './errors.js';
import { hasDifferentiableDenseOutput } from './runge-kutta-adjoint.js';
import { claimLease } from './saved-lease.js';
import { assignStats, emptyBackwardStats, type OdeStats } from './stats.js';
import { StepTape } from './step-tape.js';
import { type OdeFunction, VectorField } from './vector-field.js';

/** How gradients flow through the solve. */
export type GradientMode = 'direct' | 'adjoint' | 'checkpoint';

export const GRADIENT_MODES: readonly GradientMode[] = Object.freeze(['direct', 'adjoint', 'checkpoint']);

/** Options of {@link odeint}: every solver option of solveIvp, plus how gradients are computed. */
export interface OdeintOptions extends IntegratorOptions {
  /** Gradient mode. Default `'direct'`. */
  readonly gradient?: GradientMode;
  /**
   * Parameters of a plain-function dynamics (tensors it closes over) to differentiate with respect to. For a
   * Module they are its parameters and this option is not allowed.
   */
  readonly params?: readonly Tensor[];
  /** Solver options of the backward solve ('adjoint' only). Default: the forward method and tolerances. */
  readonly adjointOptions?: IntegratorOptions;
  /** Leave the parameter adjoint out of the backward solve's error norm ('adjoint' only). Default false. */
  readonly seminorm?: boolean;
  /** Largest number of stored step states ('checkpoint' only). Default: one per accepted step. */
  readonly checkpoints?: number;
  /** Counters to fill: forward after the solve, backward after the gradient pass. */
  readonly stats?: OdeStats;
  /**
   * Evaluate and differentiate a Module through flat kernels when it has them (its own `flatDynamics`, or
   * those built for a plain Sequential MLP). Default true; false keeps the tensor path (autograd per
   * evaluation), e.g. as a reference.
   */
  readonly flatKernels?: boolean;
}

const SOLVER_KEYS: readonly string[] = INTEGRATOR_OPTION_KEYS;
const ODEINT_KEYS = [
  ...SOLVER_KEYS,
  'gradient',
  'params',
  'adjointOptions',
  'seminorm',
  'checkpoints',
  'stats',
  'flatKernels',
];
const MODE_ONLY: Record<string, GradientMode> = {
  adjointOptions: 'adjoint',
  seminorm: 'adjoint',
  checkpoints: 'checkpoint',
};

function checkTimes(t: Tensor | readonly number[] | Float64Array): Float64Array {
  let values: Float64Array;
  if (t instanceof Tensor) {
    if (t.ndim !== 1) {
      throw new SensitivityError(
        'invalidTimes',
        't',
        `must be a 1-d tensor of output times, got shape [${t.shape.join(', ')}]`,
      );
    }
    values = Float64Array.from(t.data);
  } else if (Array.isArray(t) || t instanceof Float64Array) {
    values = Float64Array.from(t as ArrayLike<number>);
  } else {
    throw new SensitivityError(
      'invalidTimes',
      't',
      `expected a 1-d Tensor or an array of numbers, got ${typeof t}`,
    );
  }
  if (values.length < 2) {
    throw new SensitivityError(
      'invalidTimes',
      't',
      `needs at least two times (t0 and one output time), got ${values.length}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new SensitivityError('invalidTimes', `t[${i}]`, `must be finite, got ${values[i]}`);
  }
  const increasing = values[1] > values[0];
  for (let i = 1; i < values.length; i++) {
    const ok = increasing ? values[i] > values[i - 1] : values[i] < values[i - 1];
    if (!ok) {
      throw new SensitivityError(
        'invalidTimes',
        `t[${i}]`,
        `times must be strictly ${increasing ? 'increasing' : 'decreasing'} (as set by t[0] = ${values[0]}, t[1] = ${values[1]}); t[${i - 1}] = ${values[i - 1]} is followed by ${values[i]}`,
      );
    }
  }
  return values;
}

function checkOptions(options: OdeintOptions, mode: GradientMode): void {
  for (const key of Object.keys(options)) {
    if (!ODEINT_KEYS.includes(key)) {
      throw new SensitivityError(
        'unknownOption',
        `options.${key}`,
        `unknown option; known options: ${ODEINT_KEYS.join(', ')}`,
      );
    }
    const only = MODE_ONLY[key];
    if (only !== undefined && only !== mode && (options as Record<string, unknown>)[key] !== undefined) {
      throw new SensitivityError(
        'optionNotForMode',
        `options.${key}`,
        `applies only to gradient: '${only}', but the gradient mode is '${mode}'; remove it or set gradient: '${only}'`,
      );
    }
  }
  if (
    options.checkpoints !== undefined &&
    (!Number.isInteger(options.checkpoints) || options.checkpoints < 1)
  ) {
    throw new SensitivityError(
      'invalidOption',
      'options.checkpoints',
      `must be a positive integer, got ${options.checkpoints}`,
    );
  }
  if (options.flatKernels !== undefined && typeof options.flatKernels !== 'boolean') {
    throw new SensitivityError(
      'invalidOption',
      'options.flatKernels',
      `must be a boolean, got ${typeof options.flatKernels}`,
    );
  }
  if (options.adjointOptions !== undefined) {
    for (const key of Object.keys(options.adjointOptions)) {
      if (!SOLVER_KEYS.includes(key)) {
        throw new SensitivityError(
          'unknownOption',
          `options.adjointOptions.${key}`,
          `unknown solver option; known: ${SOLVER_KEYS.join(', ')}`,
        );
      }
    }
  }
}

function solverOptions(options: OdeintOptions): IntegratorOptions {
  const out: Record<string, unknown> = {};
  for (const key of SOLVER_KEYS) {
    const v = (options as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out as IntegratorOptions;
}

/**
 * Evaluations remembered for 'direct' with dynamics that save their intermediates: an accepted step's
 * stages are its last evaluations (plus the first-same-as-last stage of the step before).
 */
const RING_CAPACITY = 16;

/** Everything the backward pass needs, kept on the recorded node. */
interface OdeintContext {
  readonly field: VectorField;
  readonly mode: GradientMode;
  readonly times: Float64Array;
  readonly outputs: Float64Array;
  readonly tape: StepTape | null;
  readonly options: OdeintOptions;
  readonly timeInput: boolean;
  readonly stats: OdeStats | undefined;
}

/**
 * Solves dy/dt = func(t, y), y(t[0]) = y0 and returns the states at the times `t` as a tensor of shape
 * [t.length, ...y0.shape] (row 0 is y0). Differentiable with respect to y0, the parameters of `func` (a
 * Module's, or `options.params`) and `t` when it is a tensor requiring grad. See {@link OdeintOptions}.
 */
export function odeint(
  func: OdeFunction,
  y0: Tensor,
  t: Tensor | readonly number[] | Float64Array,
  options: OdeintOptions = {},
): Tensor {
  const mode = options.gradient ?? 'direct';
  if (!GRADIENT_MODES.includes(mode)) {
    throw new SensitivityError(
      'unknownGradientMode',
      'options.gradient',
      `unknown gradient mode '${String(mode)}'; use one of ${GRADIENT_MODES.map((m) => `'${m}'`).join(', ')}`,
    );
  }
  checkOptions(options, mode);
  if (!(y0 instanceof Tensor)) {
    throw new SensitivityError('invalidInitialState', 'y0', `expected a Tensor, got ${typeof y0}`);
  }
  if (y0.size === 0)
    throw new SensitivityError('invalidInitialState', 'y0', 'is empty: there is no state to integrate');
  if (y0.dtype !== 'float64') {
    throw new SensitivityError('invalidInitialState', 'y0', `must be float64, got ${y0.dtype}`);
  }
  const times = checkTimes(t);
  let parameters: readonly Tensor[];
  if (func instanceof Module) {
    if (options.params !== undefined) {
      throw new SensitivityError(
        'invalidOption',
        'options.params',
        'is for plain-function dynamics; a Module contributes its own parameters',
      );
    }
    parameters = func.parameterTensors();
  } else {
    parameters = options.params ?? [];
    if (!Array.isArray(parameters) || parameters.some((p) => !(p instanceof Tensor))) {
      throw new SensitivityError('invalidOption', 'options.params', 'must be an array of Tensors');
    }
  }
  const field = new VectorField(func, y0.shape, parameters, options.flatKernels ?? true);
  const n = field.n;
  const y0Data = Float64Array.from(y0.data);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y0Data[i]))
      throw new SensitivityError(
        'invalidInitialState',
        `y0 (flat index ${i})`,
        `must be finite, got ${y0Data[i]}`,
      );
  }
  const direction: 1 | -1 = times[1] > times[0] ? 1 : -1;
  const solver = solverOptions(options);
  const tracking =
    (y0.requiresGrad || (t instanceof Tensor && t.requiresGrad) || parameters.some((p) => p.requiresGrad)) &&
    isGradEnabled();
  const discrete = tracking && mode !== 'adjoint';
  // The discrete modes differentiate the dense output of tableaus with an interpolation matrix; for the
  // others every output time becomes a stop time, so that outputs are step ends.
  const method = resolveMethod(solver.method);
  const tableau = (method as { tableau?: ButcherTableau }).tableau;
  const outputsAsStops = discrete && (tableau === undefined || !hasDifferentiableDenseOutput(tableau));
  const interior = times.subarray(1, times.length - 1);
  const userStops = solver.tstops === undefined ? [] : Array.from(solver.tstops);
  const problem = normalizeProblem(
    (tt, y, dydt) => field.evaluate(tt, y, dydt),
    [times[0], times[times.length - 1]],
    y0Data,
    outputsAsStops ? { ...solver, tstops: [...userStops, ...interior] } : solver,
    times.map((v) => direction * v),
  );
  // Started before the integrator, whose set-up evaluates f at (t0, y0): the first step's first stage.
  const lease = discrete && mode === 'direct' && field.savedSize > 0 ? claimLease() : null;
  const saving = lease !== null && field.startSaving(RING_CAPACITY, lease);
  const integrator = new OdeIntegrator(problem);
  let tape: StepTape | null = null;
  let stepper: RungeKuttaStepper | null = null;
  if (discrete) {
    if (!(integrator.rawStepper instanceof RungeKuttaStepper)) {
      throw new SensitivityError(
        'unsupportedMethod',
        'options.method',
        `gradient: '${mode}' differentiates explicit Runge–Kutta steps, but method '${integrator.method.name}' is not one; use gradient: 'adjoint' with this method, or an explicit Runge–Kutta method (e.g. 'dopri5', 'tsit5', 'dopri8', 'rk4') with '${mode}'`,
      );
    }
    stepper = integrator.rawStepper;
    tape = new StepTape(
      mode,
      n,
      direction,
      options.checkpoints ?? Number.POSITIVE_INFINITY,
      !outputsAsStops,
      times.length,
      saving ? field : null,
      lease,
    );
  }
  const T = times.length;
  const outputs = new Float64Array(T * n);
  outputs.set(y0Data, 0);
  for (let i = 1; i < T; i++) {
    const target = direction * times[i];
    while (direction * integrator.t < target) {
      const outcome = integrator.step();
      if (outcome.kind === 'failed') {
        throw new SensitivityError(
          'solveFailed',
          'odeint',
          `the forward solve failed at t = ${outcome.t}: ${outcome.message}`,
        );
      }
      if (tape !== null) tape.onAccept(stepper as RungeKuttaStepper);
    }
    const dest = outputs.subarray(i * n, (i + 1) * n);
    if (direction * integrator.t === target) {
      dest.set(integrator.y);
      if (tape !== null) tape.onOutput(i, 1, 0);
    } else {
      integrator.evaluate(times[i], dest);
      if (tape !== null) {
        // θ and the step size exactly as the stepper's interpolant computes them (internal frame).
        const s = stepper as RungeKuttaStepper;
        const hDense = s.t - s.tPrev;
        tape.onOutput(i, (target - s.tPrev) / hDense, direction * hDense);
      }
    }
  }
  field.stopSaving();
  const stats = options.stats;
  if (stats !== undefined) {
    assignStats(stats.forward, integrator.stats);
    stats.storedFloats = tape !== null ? tape.storedFloats : tracking ? outputs.length : 0;
  }
  const result = new Tensor(outputs, [T, ...y0.shape]);
  if (!tracking) return result;
  const inputs: Tensor[] = [y0];
  const timeInput = t instanceof Tensor && t.requiresGrad;
  if (timeInput) inputs.push(t as Tensor);
  for (const p of parameters) inputs.push(p);
  const context: OdeintContext = { field, mode, times, outputs, tape, options, timeInput, stats };
  return record(result, `odeint(${mode})`, odeintBackward, inputs, null, context);
}

function odeintBackward(node: { aux: unknown }, g: Tensor): (Tensor | null)[] {
  const ctx = node.aux as OdeintContext;
  const { field, times, outputs, mode, options } = ctx;
  const n = field.n;
  const T = times.length;
  const cotangent = g.data as Float64Array;
  const wantTheta = field.parameters.some((p) => p.requiresGrad);
  const thetaBar = wantTheta ? new Float64Array(field.numParameters) : null;
  const yBar = new Float64Array(n);
  const stats = emptyBackwardStats();
  let shiftBar = 0;
  let backwardFloats = 0;
  if (mode === 'adjoint') {
    const forwardTol = (v: IntegratorOptions['rtol']) => (typeof v === 'number' ? v : undefined);
    const base: IntegratorOptions = {
      method: options.method,
      step: options.step,
      rtol: forwardTol(options.rtol),
      atol: forwardTol(options.atol),
      maxSteps: options.maxSteps,
    };
    const solver: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...base, ...(options.adjointOptions ?? {}) }))
      if (v !== undefined) solver[k] = v;
    backwardFloats = adjointBackward(
      field,
      times,
      outputs,
      cotangent,
      yBar,
      thetaBar,
      {
        solver: solver as IntegratorOptions,
        seminorm: options.seminorm === true,
        jumpTimes: options.jumpTimes === undefined ? undefined : Float64Array.from(options.jumpTimes),
      },
      stats,
    );
  } else {
    const tape = ctx.tape as StepTape;
    const r = tape.backward(field, cotangent, yBar, thetaBar, stats);
    shiftBar = r.stageTimeBar;
    backwardFloats = r.backwardFloats;
    for (let q = 0; q < n; q++) yBar[q] += cotangent[q];
  }
  let tBarTensor: Tensor | null = null;
  if (ctx.timeInput) {
    const tBar = new Float64Array(T);
    const f = new Float64Array(n);
    let sum = 0;
    for (let i = 1; i < T; i++) {
      field.evaluate(times[i], outputs.subarray(i * n, (i + 1) * n), f);
      stats.nfe++;
      stats.nrecompute++;
      let d = 0;
      const off = i * n;
      for (let q = 0; q < n; q++) d += cotangent[off + q] * f[q];
      tBar[i] = d;
      sum += d;
    }
    if (mode === 'adjoint') {
      // ∂L/∂t0 = −a(t0)·f(t0, y0), a(t0) the adjoint of the flow: ∂L/∂y0 without output 0's own cotangent
      // (output 0 is y0 itself and does not move with t0).
      field.evaluate(times[0], outputs.subarray(0, n), f);
      stats.nfe++;
      stats.nrecompute++;
      let d = 0;
      for (let q = 0; q < n; q++) d -= (yBar[q] - cotangent[q]) * f[q];
      tBar[0] = d;
    } else {
      tBar[0] = shiftBar - sum;
    }
    tBarTensor = new Tensor(tBar, [T]);
  }
  if (ctx.stats !== undefined) {
    Object.assign(ctx.stats.backward, stats);
    ctx.stats.backwardFloats = backwardFloats;
  }
  const grads: (Tensor | null)[] = [new Tensor(yBar, field.shape)];
  if (ctx.timeInput) grads.push(tBarTensor);
  let off = 0;
  for (const p of field.parameters) {
    grads.push(
      thetaBar === null || !p.requiresGrad ? null : new Tensor(thetaBar.subarray(off, off + p.size), p.shape),
    );
    off += p.size;
  }
  return grads;
}
