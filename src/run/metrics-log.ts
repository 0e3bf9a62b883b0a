/**
 * `metrics.jsonl`: one JSON object per logged iteration, appended with a synchronous write so that a line is
 * in the operating system's hands as soon as `append` returns; a crash loses at most the line being written.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';

export type MetricValue = number | string | boolean | null;
export type Metrics = Readonly<Record<string, MetricValue>>;

export class MetricsLog {
  readonly path: string;
  private fd: number | null = null;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends one line. Non-finite numbers are written as null (JSON has no NaN). */
  append(record: Metrics): void {
    if (this.fd === null) this.fd = fs.openSync(this.path, 'a');
    fs.writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  /** All records in the file; a torn last line (from a crash mid-write) is skipped. */
  read(): Record<string, MetricValue>[] {
    if (!fs.existsSync(this.path)) return [];
    const out: Record<string, MetricValue>[] = [];
    for (const line of fs.readFileSync(this.path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a partial line can only be the last one; ignore it
      }
    }
    return out;
  }

  /**
   * Drops records whose `iter` is greater than `iteration`. Used when resuming from a checkpoint older than
   * the log's tail, so that the log describes exactly one history.
   */
  truncateAfter(iteration: number): void {
    if (!fs.existsSync(this.path)) return;
    this.close();
    const kept = this.read().filter((r) => typeof r.iter !== 'number' || r.iter <= iteration);
    writeFileAtomic(this.path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}
