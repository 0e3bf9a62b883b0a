/**
 * Crash-safe checkpoints.
 *
 * A checkpoint is a directory `checkpoints/iter-<n>/` holding
 *  - `params.safetensors`   the parameters (raw little-endian float64/float32, exact),
 *  - `optimizer.json`       the optimizer state; its typed arrays go to `optimizer.safetensors`,
 *  - `state.json`           iteration, RNG state, the config and its hash, and any extra JSON state,
 *  - `checkpoint.json`      the manifest: format version, iteration, config hash and the SHA-256 and size of
 *                           every other file. It is written last.
 *
 * The set is written into a temporary directory which is then renamed into place (rename is atomic on one
 * file system), and only then is `checkpoints/latest.json` replaced, itself atomically. A crash at any point
 * therefore leaves either the previous checkpoint or the new one as "latest", never a half-written one; a
 * stale temporary directory is ignored and removed by the next save. Loading verifies the manifest, every
 * checksum and (when asked) the config hash, and refuses with an error naming the file and the problem.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { syncDirectory, writeFileAtomic } from '../io/atomic.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { RngState } from '../random/index.js';
import { RunError } from './errors.js';
import { canonicalJson, configDifferences, configHash, sha256Hex } from './hash.js';
import { decodeState, encodeState, type TensorEntry } from './state-codec.js';

export const CHECKPOINT_FORMAT = 'neuralode-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MANIFEST = 'checkpoint.json';
const LATEST = 'latest.json';
const DIR_PREFIX = 'iter-';

/** A parameter: a bare vector (shape `[n]`) or a vector with an explicit shape (row-major). */
export type ParamValue =
  | Float64Array
  | Float32Array
  | { shape: readonly number[]; data: Float64Array | Float32Array };

/** Everything needed to continue a run exactly where it stopped. */
export interface CheckpointState {
  /** Number of completed iterations; a resumed run starts at this iteration index. */
  readonly iteration: number;
  /** Named parameter tensors. One flat vector per model is the usual case (`{ theta }`). */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Optimizer state (JSON-like; Float64Array/Float32Array members are stored exactly in safetensors). */
  readonly optimizer?: unknown;
  /** RNG state after the last completed iteration. */
  readonly rng?: RngState;
  /** Any other JSON-like state the experiment needs (typed arrays allowed, as for `optimizer`). */
  readonly extra?: unknown;
}

export interface SaveCheckpointOptions {
  /** The run's config; its hash is stored so that a resume with a different config is refused. */
  readonly config: Record<string, unknown>;
  /** Config keys left out of the hash (default {@link CONFIG_KEYS_NOT_HASHED}). */
  readonly ignoreKeys?: readonly string[];
  /** Keep this many most recent checkpoints (default 3; at least 1). */
  readonly keep?: number;
}

export interface LoadedTensor {
  readonly dtype: 'F64' | 'F32';
  readonly shape: number[];
  readonly data: Float64Array | Float32Array;
}

export interface LoadedCheckpoint {
  /** The checkpoint directory that was loaded. */
  readonly dir: string;
  readonly iteration: number;
  readonly configHash: string;
  readonly config: Record<string, unknown>;
  readonly params: ReadonlyMap<string, LoadedTensor>;
  readonly optimizer: unknown;
  readonly rng: RngState | null;
  readonly extra: unknown;
}

export interface LoadCheckpointOptions {
  /** When given, the checkpoint's config hash must equal the hash of this config. */
  readonly config?: Record<string, unknown>;
  /** Config keys left out of the hash; must be the list the checkpoint was saved with. */
  readonly ignoreKeys?: readonly string[];
}

interface Manifest {
  format: string;
  version: number;
  iteration: number;
  configHash: string;
  createdAt: string;
  files: Record<string, { sha256: string; bytes: number }>;
}

export function checkpointDirName(iteration: number): string {
  return `${DIR_PREFIX}${String(iteration).padStart(8, '0')}`;
}

/**
 * Writes a checkpoint under `<checkpointsDir>/iter-<n>/` and makes it the latest one.
 * @returns the checkpoint directory.
 */
export function saveCheckpoint(
  checkpointsDir: string,
  state: CheckpointState,
  options: SaveCheckpointOptions,
): string {
  if (!Number.isInteger(state.iteration) || state.iteration < 0) {
    throw new RunError(
      'invalidArgument',
      `saveCheckpoint: iteration must be a non-negative integer, got ${state.iteration}`,
    );
  }
  const keep = options.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new RunError('invalidArgument', `saveCheckpoint: keep must be an integer >= 1, got ${keep}`);
  }
  fs.mkdirSync(checkpointsDir, { recursive: true });
  removeStaleTemporaries(checkpointsDir);

  const name = checkpointDirName(state.iteration);
  const finalDir = path.join(checkpointsDir, name);
  const tmpDir = path.join(checkpointsDir, `.tmp-${name}-${process.pid}-${Date.now()}`);
  fs.mkdirSync(tmpDir);

  const files: Record<string, Uint8Array> = {};
  files['params.safetensors'] = encodeSafetensors(paramEntries(state.params), { format: CHECKPOINT_FORMAT });
  const optimizer = encodeState(state.optimizer ?? null, 'optimizer.');
  const extra = encodeState(state.extra ?? null, 'extra.');
  const stateTensors = [...optimizer.tensors, ...extra.tensors];
  if (stateTensors.length > 0) files['state.safetensors'] = encodeSafetensors(stateTensors);
  const hash = configHash(options.config, options.ignoreKeys);
  files['optimizer.json'] = utf8(`${JSON.stringify(optimizer.json, null, 2)}\n`);
  files['state.json'] = utf8(
    `${JSON.stringify(
      {
        iteration: state.iteration,
        rng: state.rng ?? null,
        configHash: hash,
        config: JSON.parse(canonicalJson(options.config)),
        extra: extra.json,
      },
      null,
      2,
    )}\n`,
  );
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    iteration: state.iteration,
    configHash: hash,
    createdAt: new Date().toISOString(),
    files: {},
  };
  for (const [file, bytes] of Object.entries(files)) {
    writeFileAtomic(path.join(tmpDir, file), bytes);
    manifest.files[file] = { sha256: sha256Hex(bytes), bytes: bytes.length };
  }
  writeFileAtomic(path.join(tmpDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  syncDirectory(tmpDir);

  if (fs.existsSync(finalDir)) {
    // Saving the same iteration twice (e.g. a stop right after a periodic checkpoint): swap the old one out.
    // If we crash in between, latest.json may name a missing directory and loading falls back to a scan.
    const old = path.join(checkpointsDir, `.tmp-old-${name}-${process.pid}-${Date.now()}`);
    fs.renameSync(finalDir, old);
    fs.renameSync(tmpDir, finalDir);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmpDir, finalDir);
  }
  syncDirectory(checkpointsDir);
  writeFileAtomic(
    path.join(checkpointsDir, LATEST),
    `${JSON.stringify({ checkpoint: name, iteration: state.iteration })}\n`,
  );
  pruneCheckpoints(checkpointsDir, keep);
  return finalDir;
}

/**
 * Loads and verifies a checkpoint. `location` may be a checkpoint directory, a `checkpoints/` directory or a
 * run directory; for the last two the latest checkpoint is taken.
 */
export function loadCheckpoint(location: string, options: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const dir = resolveCheckpointDir(location);
  const manifestPath = path.join(dir, MANIFEST);
  const manifest = readManifest(manifestPath);
  for (const [file, expected] of Object.entries(manifest.files)) {
    const filePath = path.join(dir, file);
    if (!fs.existsSync(filePath)) {
      throw new RunError('checkpointCorrupt', `${filePath}: listed in ${MANIFEST} but missing`, filePath);
    }
    const bytes = fs.readFileSync(filePath);
    if (bytes.length !== expected.bytes || sha256Hex(bytes) !== expected.sha256) {
      throw new RunError(
        'checkpointCorrupt',
        `${filePath}: checksum mismatch (expected ${expected.bytes} bytes with sha256 ${expected.sha256.slice(0, 12)}…, ` +
          `found ${bytes.length} bytes with sha256 ${sha256Hex(bytes).slice(0, 12)}…); the file was modified or truncated`,
        filePath,
      );
    }
  }
  for (const required of ['params.safetensors', 'optimizer.json', 'state.json']) {
    if (!manifest.files[required]) {
      throw new RunError(
        'checkpointCorrupt',
        `${manifestPath}: does not list required file '${required}'`,
        manifestPath,
      );
    }
  }

  const statePath = path.join(dir, 'state.json');
  const stateJson = parseJsonFile(statePath) as {
    iteration: number;
    rng: RngState | null;
    configHash: string;
    config: Record<string, unknown>;
    extra: unknown;
  };
  if (stateJson.iteration !== manifest.iteration || stateJson.configHash !== manifest.configHash) {
    throw new RunError(
      'checkpointCorrupt',
      `${statePath}: iteration or config hash disagrees with ${MANIFEST}`,
      statePath,
    );
  }
  const paramsPath = path.join(dir, 'params.safetensors');
  const params = decodeTensors(paramsPath);
  const statePathTensors = path.join(dir, 'state.safetensors');
  const stateTensors = manifest.files['state.safetensors'] ? decodeTensors(statePathTensors) : new Map();
  const optimizerPath = path.join(dir, 'optimizer.json');
  const loaded: LoadedCheckpoint = {
    dir,
    iteration: manifest.iteration,
    configHash: manifest.configHash,
    config: stateJson.config,
    params,
    optimizer: decodeState(parseJsonFile(optimizerPath), stateTensors, statePathTensors),
    rng: stateJson.rng,
    extra: decodeState(stateJson.extra, stateTensors, statePathTensors),
  };
  if (options.config) assertConfigMatches(loaded, options.config, options.ignoreKeys);
  return loaded;
}

/**
 * Refuses (with a `checkpointConfigMismatch` error naming the manifest and every differing key) when
 * `config` does not hash to the checkpoint's config hash.
 */
export function assertConfigMatches(
  checkpoint: LoadedCheckpoint,
  config: Record<string, unknown>,
  ignoreKeys?: readonly string[],
): void {
  if (configHash(config, ignoreKeys) === checkpoint.configHash) return;
  const manifestPath = path.join(checkpoint.dir, MANIFEST);
  const keys = configDifferences(checkpoint.config ?? {}, config, ignoreKeys);
  const detail = keys
    .map(
      (k) => `${k}: checkpoint ${JSON.stringify(checkpoint.config?.[k])}, now ${JSON.stringify(config[k])}`,
    )
    .join('; ');
  throw new RunError(
    'checkpointConfigMismatch',
    `${manifestPath}: the checkpoint was written with a different config (${detail || 'hash differs'}); ` +
      'resume with the original options or start a new run',
    manifestPath,
  );
}

/** Resolves a run directory, `checkpoints/` directory or checkpoint directory to one checkpoint directory. */
export function resolveCheckpointDir(location: string): string {
  if (!fs.existsSync(location)) {
    throw new RunError('checkpointNotFound', `${location}: no such file or directory`, location);
  }
  if (fs.existsSync(path.join(location, MANIFEST))) return location;
  const checkpointsDir = fs.existsSync(path.join(location, 'checkpoints'))
    ? path.join(location, 'checkpoints')
    : location;
  const latestPath = path.join(checkpointsDir, LATEST);
  if (fs.existsSync(latestPath)) {
    const latest = parseJsonFile(latestPath) as { checkpoint?: unknown };
    if (typeof latest.checkpoint === 'string') {
      const dir = path.join(checkpointsDir, latest.checkpoint);
      if (fs.existsSync(path.join(dir, MANIFEST))) return dir;
    }
  }
  // latest.json missing or stale (a crash between the rename and its update): take the newest complete one.
  const candidates = listCheckpointDirs(checkpointsDir).filter((d) =>
    fs.existsSync(path.join(checkpointsDir, d, MANIFEST)),
  );
  if (candidates.length === 0) {
    throw new RunError(
      'checkpointNotFound',
      `${location}: no checkpoint found (expected ${MANIFEST} here, or checkpoints/${LATEST} in a run directory)`,
      location,
    );
  }
  return path.join(checkpointsDir, candidates[candidates.length - 1]);
}

function readManifest(manifestPath: string): Manifest {
  const m = parseJsonFile(manifestPath) as Partial<Manifest>;
  if (m.format !== CHECKPOINT_FORMAT) {
    throw new RunError(
      'checkpointCorrupt',
      `${manifestPath}: not a ${CHECKPOINT_FORMAT} manifest`,
      manifestPath,
    );
  }
  if (m.version !== CHECKPOINT_VERSION) {
    throw new RunError(
      'checkpointCorrupt',
      `${manifestPath}: manifest version ${m.version} is not supported (expected ${CHECKPOINT_VERSION})`,
      manifestPath,
    );
  }
  if (
    !Number.isInteger(m.iteration) ||
    typeof m.configHash !== 'string' ||
    m.files === null ||
    typeof m.files !== 'object'
  ) {
    throw new RunError(
      'checkpointCorrupt',
      `${manifestPath}: manifest fields are missing or malformed`,
      manifestPath,
    );
  }
  return m as Manifest;
}

function parseJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RunError('checkpointCorrupt', `${file}: cannot be read (${(e as Error).message})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunError('checkpointCorrupt', `${file}: invalid JSON (${(e as Error).message})`, file);
  }
}

function decodeTensors(file: string): Map<string, LoadedTensor> {
  try {
    const decoded = decodeSafetensors(new Uint8Array(fs.readFileSync(file)));
    const out = new Map<string, LoadedTensor>();
    for (const [name, t] of decoded.tensors) {
      if (t.dtype !== 'F64' && t.dtype !== 'F32') {
        throw new RunError(
          'checkpointCorrupt',
          `${file}: tensor '${name}' has dtype ${t.dtype}; checkpoints hold F64 or F32`,
          file,
        );
      }
      out.set(name, {
        dtype: t.dtype as 'F64' | 'F32',
        shape: [...t.shape],
        data: t.data as Float64Array | Float32Array,
      });
    }
    return out;
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(
      'checkpointCorrupt',
      `${file}: not a valid safetensors file (${(e as Error).message})`,
      file,
    );
  }
}

function paramEntries(params: Readonly<Record<string, ParamValue>>): TensorEntry[] {
  return Object.entries(params).map(([name, value]) => {
    const data = value instanceof Float64Array || value instanceof Float32Array ? value : value.data;
    const shape =
      value instanceof Float64Array || value instanceof Float32Array ? [value.length] : [...value.shape];
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new RunError(
        'invalidArgument',
        `saveCheckpoint: parameter '${name}' has shape [${shape.join(', ')}] (${size} values) but ${data.length} values`,
      );
    }
    return { name, dtype: data instanceof Float64Array ? 'F64' : 'F32', shape, data };
  });
}

function listCheckpointDirs(checkpointsDir: string): string[] {
  if (!fs.existsSync(checkpointsDir)) return [];
  return fs
    .readdirSync(checkpointsDir)
    .filter((d) => d.startsWith(DIR_PREFIX))
    .sort();
}

function pruneCheckpoints(checkpointsDir: string, keep: number): void {
  const dirs = listCheckpointDirs(checkpointsDir);
  for (const d of dirs.slice(0, Math.max(0, dirs.length - keep))) {
    fs.rmSync(path.join(checkpointsDir, d), { recursive: true, force: true });
  }
}

function removeStaleTemporaries(checkpointsDir: string): void {
  for (const d of fs.readdirSync(checkpointsDir)) {
    if (d.startsWith('.tmp-')) fs.rmSync(path.join(checkpointsDir, d), { recursive: true, force: true });
  }
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
