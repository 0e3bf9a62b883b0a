/**
 * Crash-safe file replacement.
 *
 * A reader of `path` must only ever see the old content or the new content, never a prefix of the new one,
 * even if the process is killed or the machine loses power mid-write. The bytes therefore go to a temporary
 * file in the same directory (rename is only atomic within one file system), are flushed to disk with fsync,
 * and the temporary file is then renamed over the target. The directory itself is fsynced afterwards so the
 * rename survives a power loss too (best effort: not every platform can open a directory).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let counter = 0;

/**
 * Writes `data` to `file` atomically: temporary file in the same directory, fsync, rename. On any failure the
 * temporary file is removed and the error is rethrown; the previous content of `file`, if any, is untouched.
 * Strings are written as UTF-8.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const dir = path.dirname(file);
  // pid + counter + random suffix: unique across concurrent writers in this and other processes.
  const suffix = `${process.pid}-${counter++}-${Math.floor(Math.random() * 0x100000000).toString(16)}`;
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${suffix}`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let written = 0;
    while (written < bytes.length) {
      written += fs.writeSync(fd, bytes, written, bytes.length - written);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (error) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing more can be done; the original error is the one to report
    }
    throw error;
  }
  syncDirectory(dir);
}

/** Makes renames inside `dir` durable (fsync of the directory); skipped where directories cannot be synced. */
export function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Directories cannot be opened for fsync on some platforms (Windows); the rename is still atomic.
  }
}
