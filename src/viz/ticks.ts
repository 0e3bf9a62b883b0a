/**
 * Axis ticks: "nice" linear ticks (steps of 1, 2, 2.5 or 5 times a power of ten, as in Heckbert, "Nice
 * numbers for graph labels", Graphics Gems, 1990) and decade ticks for log axes.
 */
import { VizError } from './errors.js';

export interface Tick {
  readonly value: number;
  /** Label text; for powers of ten `label` is the base and `exponent` the superscript. */
  readonly label: string;
  readonly exponent?: string;
  /** Minor ticks carry no label and get a lighter grid line. */
  readonly minor?: boolean;
}

const NICE_MANTISSAS = [1, 2, 2.5, 5, 10];

/** The smallest nice step (1, 2, 2.5, 5 × 10^k) that covers `span` in at most `maxCount` intervals. */
export function niceStep(span: number, maxCount: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, maxCount);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of NICE_MANTISSAS) if (m * power >= raw * (1 - 1e-9)) return m * power;
  return 10 * power;
}

/** Number of decimals needed to print multiples of `step` exactly. */
function decimalsFor(step: number): number {
  let d = 0;
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6 * step * 10 ** d) d++;
  return d;
}

/** Uses a typographic minus sign, which is as wide as a plus and reads better than a hyphen. */
export function minus(text: string): string {
  return text.replace(/^-/, '\u2212').replace(/e-/, 'e\u2212');
}

/**
 * Linear ticks inside [lo, hi]: about `targetCount` of them, at multiples of a nice step. Labels share one
 * format (same number of decimals, or scientific notation when the values are very large or small).
 */
export function linearTicks(lo: number, hi: number, targetCount = 6): Tick[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new VizError('invalidArgument', `linearTicks: limits must be finite, got [${lo}, ${hi}]`);
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [{ value: lo, label: formatNumber(lo) }];
  const step = niceStep(hi - lo, targetCount);
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(k * step === 0 ? 0 : k * step); // avoids -0
  const maxAbs = Math.max(...values.map(Math.abs));
  const scientific = maxAbs >= 1e5 || (maxAbs > 0 && maxAbs < 1e-3);
  const decimals = decimalsFor(step);
  return values.map((value) => ({
    value,
    label: minus(scientific ? formatScientific(value, step) : value.toFixed(decimals)),
  }));
}

function formatScientific(value: number, step: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  const digits = Math.max(0, exponent - Math.floor(Math.log10(step)));
  const mantissa = value / 10 ** exponent;
  return `${Number(mantissa.toFixed(Math.min(digits, 6)))}e${exponent}`;
}

/** A compact label for an arbitrary number. */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3)
    return minus(
      x
        .toExponential(2)
        .replace(/\.?0+e/, 'e')
        .replace('e+', 'e'),
    );
  return minus(String(Number(x.toPrecision(4))));
}

/**
 * Ticks for a log axis on [lo, hi] (both > 0): one labelled tick per decade (every 2nd, 3rd… decade when
 * there are many), unlabelled minor ticks at 2…9 × 10^k when few decades are shown, and labelled 2 and 5
 * subdivisions when the range spans less than about two decades so that the axis still carries labels.
 */
export function logTicks(lo: number, hi: number, targetCount = 6): Tick[] {
  if (!(lo > 0) || !(hi > 0) || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new VizError('invalidArgument', `logTicks: limits must be positive and finite, got [${lo}, ${hi}]`);
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  const e0 = Math.floor(Math.log10(lo) + 1e-9);
  const e1 = Math.ceil(Math.log10(hi) - 1e-9);
  const decades = Math.max(1, e1 - e0);
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const ticks: Tick[] = [];
  if (decades <= 2) {
    // Narrow range: 1, 2, 5 per decade, labelled with plain numbers.
    const narrow = Math.log10(hi / lo) < 0.7;
    if (narrow) return linearTicks(lo, hi, targetCount).filter((t) => t.value > 0);
    for (let e = e0; e <= e1; e++) {
      for (let m = 1; m <= 9; m++) {
        const v = Number(`${m}e${e}`);
        if (!inside(v)) continue;
        const labelled = m === 1 || m === 2 || m === 5;
        ticks.push(
          labelled
            ? { value: v, label: formatNumber(Number(v.toPrecision(12))) }
            : { value: v, label: '', minor: true },
        );
      }
    }
    return ticks;
  }
  const every = Math.max(1, Math.ceil(decades / targetCount));
  for (let e = e0; e <= e1; e++) {
    const v = decade(e);
    if (inside(v) && e % every === 0) ticks.push({ value: v, label: '10', exponent: minus(String(e)) });
    if (decades <= 6) {
      for (let m = 2; m <= 9; m++) {
        const w = Number(`${m}e${e}`);
        if (inside(w)) ticks.push({ value: w, label: '', minor: true });
      }
    }
  }
  return ticks.sort((a, b) => a.value - b.value);
}

/** 10^e as the double nearest to the decimal (10 ** -4 is not exactly 1e-4). */
function decade(e: number): number {
  return Number(`1e${e}`);
}

/** Plain-text form of a tick label, with `^` before an exponent (for tests and logs). */
export function tickText(t: Tick): string {
  return t.exponent === undefined ? t.label : `${t.label}^${t.exponent}`;
}
