/**
 * Progress on long loops: a cli-progress bar (iteration, chosen metrics, rate, ETA) when the stream is a
 * terminal, and plain log lines every few seconds otherwise (CI logs, redirected output), so that logs stay
 * readable and the bar's carriage returns never end up in files. Progress goes to stderr by default, which
 * keeps stdout free for the `--json` summary line.
 */
import cliProgress from 'cli-progress';
import type { Metrics } from './metrics-log.js';

export interface ProgressReporter {
  /** Starts a loop of `total` iterations, `startValue` of which are already done (resume). */
  start(total: number, startValue?: number): void;
  /** Reports that `value` iterations are complete, with the latest metrics. */
  update(value: number, metrics?: Metrics): void;
  /** Prints a message on its own line without garbling the bar. */
  log(message: string): void;
  /** Ends the loop (prints the final state). */
  stop(): void;
}

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'off';

/** Where text goes: a Node stream or anything with `write`. A bar needs a real TTY stream. */
export interface TextSink {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** Destination (default `process.stderr`). */
  readonly stream?: TextSink;
  /** Prefix of every line, usually the experiment name. */
  readonly label?: string;
  /** `auto` (default): a bar on a TTY, lines otherwise. */
  readonly mode?: ProgressMode;
  /** In line mode, the minimum time between two lines (default 2000 ms). */
  readonly intervalMs?: number;
  /** Metric keys to show, in order (default: the first four numeric metrics reported). */
  readonly fields?: readonly string[];
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

/** Short, fixed-width friendly formatting of a metric value. */
export function formatMetric(v: unknown): string {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(3);
  return v.toPrecision(4);
}

/** `1h02m`, `3m07s`, `12s` or `0.4s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 9.95) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function metricText(metrics: Metrics | undefined, fields: readonly string[] | undefined): string {
  if (!metrics) return '';
  const keys =
    fields ??
    Object.keys(metrics)
      .filter((k) => k !== 'iter' && k !== 'time' && typeof metrics[k] === 'number')
      .slice(0, 4);
  return keys
    .filter((k) => metrics[k] !== undefined)
    .map((k) => `${k} ${formatMetric(metrics[k])}`)
    .join(' | ');
}

export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? 'auto';
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'off') return { start() {}, update() {}, log() {}, stop() {} };
  if (resolved === 'bar') return new BarProgress(stream, options);
  return new LineProgress(stream, options);
}

class LineProgress implements ProgressReporter {
  private total = 0;
  private startValue = 0;
  private startTime = 0;
  private lastPrint = -Infinity;
  private value = 0;
  private metrics: Metrics | undefined;
  private readonly now: () => number;

  constructor(
    private readonly stream: TextSink,
    private readonly options: ProgressOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  start(total: number, startValue = 0): void {
    this.total = total;
    this.startValue = startValue;
    this.value = startValue;
    this.startTime = this.now();
    this.lastPrint = this.startTime;
    this.print();
  }

  update(value: number, metrics?: Metrics): void {
    this.value = value;
    if (metrics) this.metrics = metrics;
    if (this.now() - this.lastPrint >= (this.options.intervalMs ?? 2000)) this.print();
  }

  log(message: string): void {
    this.stream.write(`${message}\n`);
  }

  stop(): void {
    this.print();
  }

  private print(): void {
    this.lastPrint = this.now();
    const elapsed = (this.lastPrint - this.startTime) / 1000;
    const done = this.value - this.startValue;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.value) / rate : Number.NaN;
    const pct = this.total > 0 ? Math.floor((100 * this.value) / this.total) : 100;
    const parts = [
      `${this.options.label ? `[${this.options.label}] ` : ''}iter ${this.value}/${this.total} (${pct}%)`,
      metricText(this.metrics, this.options.fields),
      rate > 0 ? `${formatMetric(rate)} it/s` : '',
      this.value < this.total && rate > 0 ? `ETA ${formatDuration(eta)}` : '',
    ].filter((p) => p !== '');
    this.stream.write(`${parts.join(' | ')}\n`);
  }
}

class BarProgress implements ProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private value = 0;
  private active = false;

  constructor(
    private readonly stream: TextSink,
    private readonly options: ProgressOptions,
  ) {
    const label = options.label ? `${options.label} ` : '';
    this.bar = new cliProgress.SingleBar(
      {
        stream: stream as never,
        format: `${label}{bar} {value}/{total} | {metrics} | ETA {eta_formatted}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number, startValue = 0): void {
    this.value = startValue;
    this.active = true;
    this.bar.start(total, startValue, { metrics: '' });
  }

  update(value: number, metrics?: Metrics): void {
    this.value = value;
    this.bar.update(value, metrics ? { metrics: metricText(metrics, this.options.fields) } : {});
  }

  log(message: string): void {
    if (!this.active) {
      this.stream.write(`${message}\n`);
      return;
    }
    // Clear the bar's line, print the message, then redraw the bar below it.
    this.stream.write(`\r\x1b[2K${message}\n`);
    this.bar.update(this.value);
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.bar.stop();
  }
}
