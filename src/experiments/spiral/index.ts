/**
 * `neuralode train spiral`: the main demo. A neural ODE learns the spiral dynamics dy/dt = A·y³ with
 * A = [[-0.1, 2], [-2, -0.1]] from y(0) = [2, 0], observed at 1000 evenly spaced times on [0, 25], as in the
 * ODE demo that accompanies Chen et al. (NeurIPS 2018).
 *
 * Each iteration draws `batchSize` random windows of `batchTime` consecutive observations, solves the learned
 * ODE from each window's first point (one batched solve), and minimises the mean absolute error with RMSprop.
 * Every `evalEvery` iterations the whole trajectory is solved from y(0) and its mean absolute error reported.
 * The summary's `ms_per_iter` is the time of the training loop per iteration, those evaluations included
 * (`step_ms_per_iter` without them), and `smoothed_loss` the mean of the last ten whole-trajectory losses.
 */
import { noGrad } from '../../autograd/node.js';
import { defineExperiment, type ExperimentConfig } from '../../cli/experiments.js';
import { option } from '../../cli/options.js';
import { SpiralDynamics } from '../../models/spiral-dynamics.js';
import { solveIvp } from '../../ode/solve-ivp.js';
import { Rmsprop } from '../../optim/rmsprop.js';
import { odeint } from '../../sensitivity/odeint.js';
import { createOdeStats } from '../../sensitivity/stats.js';
import { abs, sub } from '../../tensor/ops/elementwise.js';
import { mean } from '../../tensor/ops/reduce.js';
import { Tensor } from '../../tensor/tensor.js';
import { spiralFigures } from './figures.js';

/** The true system's matrix, row-major. */
export const SPIRAL_MATRIX = Object.freeze([-0.1, 2, -2, -0.1]);
export const SPIRAL_Y0 = Object.freeze([2, 0]);

const OPTIONS = {
  gradient: option.choice('--gradient <mode>', 'how gradients flow through the solve', 'direct', [
    'direct',
    'adjoint',
    'checkpoint',
  ] as const),
  method: option.choice('--method <name>', 'ODE solver of the model', 'dopri5', [
    'dopri5',
    'tsit5',
    'bosh3',
    'dopri8',
    'rk4',
    'midpoint',
    'euler',
  ] as const),
  rtol: option.number('--rtol <x>', 'relative tolerance of the solver', 1e-7, { min: 0, exclusiveMin: true }),
  atol: option.number('--atol <x>', 'absolute tolerance of the solver', 1e-9, { min: 0, exclusiveMin: true }),
  step: option.number('--step <h>', 'step size of fixed-step methods (rk4, midpoint, euler)', 0.005, {
    min: 0,
    exclusiveMin: true,
  }),
  dataSize: option.integer('--data-size <n>', 'observations of the true trajectory on [0, 25]', 1000, {
    min: 20,
  }),
  batchSize: option.integer('--batch-size <n>', 'windows per iteration', 20, { min: 1 }),
  batchTime: option.integer('--batch-time <n>', 'consecutive observations per window', 10, { min: 2 }),
  lr: option.number('--lr <x>', 'RMSprop learning rate', 1e-3, { min: 0, exclusiveMin: true }),
  evalEvery: option.integer('--eval-every <n>', 'iterations between whole-trajectory losses', 20, { min: 1 }),
  skipFigures: { ...option.flag('--skip-figures', 'do not render figures'), affectsResult: false },
};

export type SpiralConfig = ExperimentConfig<typeof OPTIONS>;

/** The true trajectory at `n` evenly spaced times on [0, 25], from a tight dopri8 solve. */
export function spiralData(n: number): { t: Float64Array; y: Float64Array } {
  const [a00, a01, a10, a11] = SPIRAL_MATRIX;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = (25 * i) / (n - 1);
  const res = solveIvp(
    (_t, y, dydt) => {
      const c0 = y[0] * y[0] * y[0];
      const c1 = y[1] * y[1] * y[1];
      dydt[0] = a00 * c0 + a01 * c1;
      dydt[1] = a10 * c0 + a11 * c1;
    },
    [0, 25],
    SPIRAL_Y0 as number[],
    { method: 'dopri8', rtol: 1e-12, atol: 1e-12, tEval: t },
  );
  const y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) y.set(res.y[i], 2 * i);
  return { t, y };
}

export const spiralExperiment = defineExperiment({
  name: 'spiral',
  description: 'Learn the spiral dynamics dy/dt = A·y³ with a neural ODE (the main demo)',
  defaultIters: 2000,
  defaultCheckpointEvery: 200,
  options: OPTIONS,
  async run(config, ctx) {
    if (config.batchTime > config.dataSize) {
      throw new RangeError(
        `--batch-time (${config.batchTime}) must not exceed --data-size (${config.dataSize})`,
      );
    }
    const data = spiralData(config.dataSize);
    const dt = data.t[1] - data.t[0];
    const model = new SpiralDynamics({ rng: ctx.rng }).finalize();
    const optimizer = new Rmsprop(model.numParameters, { lr: config.lr });
    if (ctx.checkpoint) {
      for (const [name, tensor] of model.namedParameters()) {
        const saved = ctx.checkpoint.params.get(name);
        if (!saved || saved.data.length !== tensor.size) {
          throw new RangeError(`checkpoint: parameter '${name}' is missing or has the wrong size`);
        }
        tensor.data.set(saved.data);
      }
      optimizer.loadStateDict(ctx.checkpoint.optimizer);
      ctx.rng.setState(ctx.checkpoint.rng!);
    }

    const solverOptions = {
      method: config.method,
      ...(['rk4', 'midpoint', 'euler'].includes(config.method)
        ? { step: config.step }
        : { rtol: config.rtol, atol: config.atol }),
    } as const;
    const batchT = new Float64Array(config.batchTime);
    for (let k = 0; k < config.batchTime; k++) batchT[k] = k * dt;
    const y0Buffer = new Float64Array(2 * config.batchSize);
    const targetBuffer = new Float64Array(2 * config.batchSize * config.batchTime);
    const lastStart = config.dataSize - config.batchTime;
    const stats = createOdeStats();
    let nfeForward = 0;
    let nfeBackward = 0;
    let counted = 0;
    const losses: { iteration: number; loss: number }[] = [];
    const evalLosses: { iteration: number; loss: number }[] = [];

    const wholeTrajectory = (): Float64Array =>
      noGrad(() => {
        const y0 = new Tensor(Float64Array.from(SPIRAL_Y0), [2]);
        return odeint(model, y0, data.t, solverOptions).data.slice() as Float64Array;
      });
    const wholeLoss = (): number => {
      const pred = wholeTrajectory();
      let s = 0;
      for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i] - data.y[i]);
      return s / pred.length;
    };

    const initialLoss = ctx.checkpoint ? Number.NaN : wholeLoss();
    let stepMs = 0;
    let evalMs = 0;
    const result = await ctx.train({
      step(iter) {
        const stepStart = performance.now();
        for (let b = 0; b < config.batchSize; b++) {
          const s = ctx.rng.int(lastStart + 1);
          y0Buffer[2 * b] = data.y[2 * s];
          y0Buffer[2 * b + 1] = data.y[2 * s + 1];
          for (let k = 0; k < config.batchTime; k++) {
            const o = 2 * (k * config.batchSize + b);
            targetBuffer[o] = data.y[2 * (s + k)];
            targetBuffer[o + 1] = data.y[2 * (s + k) + 1];
          }
        }
        const y0 = new Tensor(y0Buffer.slice(), [config.batchSize, 2]);
        const target = new Tensor(targetBuffer.slice(), [config.batchTime, config.batchSize, 2]);
        const pred = odeint(model, y0, batchT, { ...solverOptions, gradient: config.gradient, stats });
        const loss = mean(abs(sub(pred, target)));
        model.zeroGrad();
        loss.backward();
        optimizer.step(model.parameters, model.gradients);
        const value = loss.item();
        losses.push({ iteration: iter + 1, loss: value });
        stepMs += performance.now() - stepStart;
        nfeForward += stats.forward.nfe;
        nfeBackward += stats.backward.nfe;
        counted++;
        return { loss: value, nfeForward: stats.forward.nfe, nfeBackward: stats.backward.nfe };
      },
      evalEvery: config.evalEvery,
      onEval(completed) {
        const evalStart = performance.now();
        const loss = wholeLoss();
        evalMs += performance.now() - evalStart;
        evalLosses.push({ iteration: completed, loss });
        return { trajectoryLoss: loss };
      },
      saveCheckpoint(completed) {
        const params: Record<string, { shape: readonly number[]; data: Float64Array | Float32Array }> = {};
        for (const [name, tensor] of model.namedParameters()) {
          params[name] = { shape: tensor.shape, data: tensor.data };
        }
        ctx.saveCheckpoint({ iteration: completed, params, optimizer: optimizer.stateDict() });
      },
    });
    const finalLoss = wholeLoss();
    // The whole-trajectory loss is noisy from one evaluation to the next (a small change of the learned
    // rotation speed shifts the phase late in the trajectory); the mean of the last ten is the steadier
    // measure of what was learned.
    const recent = evalLosses.slice(-10);
    const smoothedLoss =
      recent.length > 0 ? recent.reduce((acc, e) => acc + e.loss, 0) / recent.length : finalLoss;

    if (!config.skipFigures) {
      const figures = spiralFigures({
        t: data.t,
        truth: data.y,
        learned: wholeTrajectory(),
        field: (x, y) =>
          noGrad(() => {
            const out = model.forward(new Tensor(new Float64Array([x, y]), [1, 2]));
            return [out.data[0], out.data[1]];
          }),
        losses,
        evalLosses,
      });
      for (const [name, figure] of Object.entries(figures)) ctx.saveFigure(figure, name);
    }

    return {
      experiment: 'spiral',
      iters: result.completedIters,
      ms_per_iter: counted > 0 ? (stepMs + evalMs) / counted : 0,
      step_ms_per_iter: counted > 0 ? stepMs / counted : 0,
      initial_loss: initialLoss,
      final_loss: finalLoss,
      smoothed_loss: smoothedLoss,
      nfe_forward_mean: counted > 0 ? nfeForward / counted : 0,
      nfe_backward_mean: counted > 0 ? nfeBackward / counted : 0,
      gradient: config.gradient,
    };
  },
});
