/**
 * A run directory holds everything one training run produces:
 *
 * ```
 * runs/<experiment>-<YYYYMMDD-HHMMSS>/
 *   config.json       the full config (written once, atomically)
 *   metrics.jsonl     one line per logged iteration
 *   checkpoints/      iter-<n>/ checkpoint sets and latest.json (see checkpoint.ts)
 *   figures/          SVG and PNG figures
 *   summary.json      the final summary
 * ```
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import {
  type CheckpointState,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  loadCheckpoint,
  type SaveCheckpointOptions,
  saveCheckpoint,
} from './checkpoint.js';
import { RunError } from './errors.js';
import { MetricsLog } from './metrics-log.js';

export interface RunDirectoryOptions {
  /** Experiment name, used in the default directory name. */
  readonly experiment: string;
  /** Explicit directory; default `<root>/<experiment>-<timestamp>`. */
  readonly out?: string;
  /** Parent of default run directories (default `runs`). */
  readonly root?: string;
  /** Clock for the default name (tests). */
  readonly now?: Date;
}

/** `YYYYMMDD-HHMMSS` in UTC, so names sort by time and do not depend on the machine's zone. */
export function timestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

export class RunDirectory {
  readonly path: string;
  readonly metrics: MetricsLog;

  private constructor(dir: string) {
    this.path = dir;
    this.metrics = new MetricsLog(path.join(dir, 'metrics.jsonl'));
  }

  /**
   * Creates (or reuses, when `out` names an existing directory) a run directory. A default name that is
   * already taken gets a `-2`, `-3`, … suffix so that two runs started in the same second do not mix.
   */
  static create(options: RunDirectoryOptions): RunDirectory {
    if (!/^[A-Za-z0-9._-]+$/.test(options.experiment)) {
      throw new RunError(
        'invalidArgument',
        `RunDirectory: experiment name '${options.experiment}' may only contain letters, digits, '.', '_' and '-'`,
      );
    }
    let dir: string;
    if (options.out !== undefined) {
      dir = options.out;
      if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
        throw new RunError('runDirectoryInvalid', `--out ${dir}: exists and is not a directory`, dir);
      }
    } else {
      const base = path.join(
        options.root ?? 'runs',
        `${options.experiment}-${timestamp(options.now ?? new Date())}`,
      );
      dir = base;
      for (let i = 2; fs.existsSync(dir); i++) dir = `${base}-${i}`;
    }
    fs.mkdirSync(dir, { recursive: true });
    return new RunDirectory(dir);
  }

  /** Opens an existing run directory (for `--resume`). */
  static open(dir: string): RunDirectory {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new RunError('runDirectoryInvalid', `${dir}: not a run directory (no such directory)`, dir);
    }
    return new RunDirectory(dir);
  }

  /** Path of a file inside the run directory. */
  file(...parts: string[]): string {
    return path.join(this.path, ...parts);
  }

  get checkpointsDir(): string {
    return this.file('checkpoints');
  }

  get figuresDir(): string {
    return this.file('figures');
  }

  /** Writes `config.json` atomically. */
  writeConfig(config: Record<string, unknown>): string {
    return this.writeJson('config.json', config);
  }

  /** Writes any JSON file in the run directory atomically and returns its path. */
  writeJson(name: string, value: unknown): string {
    const file = this.file(name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
    return file;
  }

  saveCheckpoint(state: CheckpointState, options: SaveCheckpointOptions): string {
    return saveCheckpoint(this.checkpointsDir, state, options);
  }

  loadCheckpoint(options?: LoadCheckpointOptions): LoadedCheckpoint {
    return loadCheckpoint(this.path, options);
  }
}
