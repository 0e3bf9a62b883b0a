/**
 * Runs that lose nothing: run directories, metrics logs, crash-safe checkpoints, graceful stopping,
 * progress reporting and the generic training loop.
 */
export {
  assertConfigMatches,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointState,
  checkpointDirName,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  type LoadedTensor,
  loadCheckpoint,
  type ParamValue,
  resolveCheckpointDir,
  type SaveCheckpointOptions,
  saveCheckpoint,
} from './checkpoint.js';
export { RunError, type RunErrorCode } from './errors.js';
export { CONFIG_KEYS_NOT_HASHED, canonicalJson, configDifferences, configHash, sha256Hex } from './hash.js';
export { type Metrics, MetricsLog, type MetricValue } from './metrics-log.js';
export {
  createProgress,
  formatDuration,
  formatMetric,
  type ProgressMode,
  type ProgressOptions,
  type ProgressReporter,
  type TextSink,
} from './progress.js';
export { RunDirectory, type RunDirectoryOptions, timestamp } from './run-directory.js';
export { decodeState, encodeState, type TensorEntry } from './state-codec.js';
export {
  type GracefulStopOptions,
  STOP_EXIT_CODES,
  type StopReason,
  StopSignal,
  withGracefulStop,
} from './stop-signal.js';
export { runTraining, type TrainingOptions, type TrainingResult, type TrainingStatus } from './training.js';
