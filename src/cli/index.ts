/**
 * The command-line layer: experiment registry, option builders and the `neuralode` program.
 */

export { BUILTIN_EXPERIMENTS, registerBuiltinExperiments } from './builtin.js';
export {
  type AnyExperiment,
  type CommonConfig,
  defineExperiment,
  type Experiment,
  type ExperimentCheckpoint,
  type ExperimentConfig,
  type ExperimentContext,
  ExperimentRegistry,
  type ExperimentSummary,
  experiments,
} from './experiments.js';
export {
  type OptionSpec,
  OptionValueError,
  option,
  parseChoice,
  parseInteger,
  parseNumber,
} from './options.js';
export { type CliOptions, createProgram, runCli, VERSION } from './program.js';
export type { RunIo, RunSummary } from './run-experiment.js';
export { createStyle, type Style, useColor } from './style.js';
