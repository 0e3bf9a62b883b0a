/**
 * The experiments that ship with the `neuralode` command. An experiment module exports its definition
 * (see experiments.ts) and is listed here; the CLI registers the list when it starts, so library users who
 * only import `neuralode` do not load experiment code.
 */
import { latentOdeExperiment } from '../experiments/latent-ode/index.js';
import { spiralExperiment } from '../experiments/spiral/index.js';
import { type AnyExperiment, type ExperimentRegistry, experiments } from './experiments.js';

export const BUILTIN_EXPERIMENTS: readonly AnyExperiment[] = Object.freeze([
  spiralExperiment as unknown as AnyExperiment,
  latentOdeExperiment as unknown as AnyExperiment,
]);

/** Registers the built-in experiments (once) and returns the registry. */
export function registerBuiltinExperiments(registry: ExperimentRegistry = experiments): ExperimentRegistry {
  for (const e of BUILTIN_EXPERIMENTS) if (!registry.get(e.name)) registry.register(e);
  return registry;
}
