/**
 * Declarative experiment options: flags, default, parser/validator and description. The CLI turns them into
 * commander options; a parser throws {@link OptionValueError} with a message that says what was expected,
 * and commander reports it next to the flag and the offending value.
 */
import { InvalidArgumentError } from 'commander';

/** Thrown by option parsers; commander prints it as "option '--x <n>' argument 'v' is invalid. <message>". */
export class OptionValueError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'OptionValueError';
  }
}

export interface OptionSpec<T = unknown> {
  /** Commander flags, e.g. `'--hidden-size <n>'` or `'--augment'`. The config key is the camelCase name. */
  readonly flags: string;
  readonly description: string;
  /** The default, shown in `--help`. */
  readonly defaultValue: T;
  /** Text shown instead of the default value in `--help` (for computed defaults). */
  readonly defaultDescription?: string;
  /** Parses and validates the raw string; throws {@link OptionValueError}. Absent for boolean flags. */
  readonly parse?: (raw: string) => T;
  /** Allowed values, listed in `--help`. */
  readonly choices?: readonly string[];
  /**
   * False for options that do not change the result (log intervals, plotting); they are left out of the
   * config hash, so a run may be resumed with a different value. Default true.
   */
  readonly affectsResult?: boolean;
}

interface RangeOptions {
  readonly min?: number;
  readonly max?: number;
  /** Exclude `min` itself (for "positive"). */
  readonly exclusiveMin?: boolean;
}

function describeRange(r: RangeOptions): string {
  const lo = r.min === undefined ? '' : `${r.exclusiveMin ? '>' : '>='} ${r.min}`;
  const hi = r.max === undefined ? '' : `<= ${r.max}`;
  return [lo, hi].filter((s) => s !== '').join(' and ');
}

function checkRange(x: number, r: RangeOptions, raw: string, kind: string): number {
  const low = r.min !== undefined && (r.exclusiveMin ? x <= r.min : x < r.min);
  const high = r.max !== undefined && x > r.max;
  if (low || high) throw new OptionValueError(`expected ${kind} ${describeRange(r)}, got '${raw}'`);
  return x;
}

/** Integer parser (decimal, optional sign, `1e3` allowed when the value is an integer). */
export function parseInteger(range: RangeOptions = {}): (raw: string) => number {
  return (raw) => {
    const x = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isInteger(x)) throw new OptionValueError(`expected an integer, got '${raw}'`);
    return checkRange(x, range, raw, 'an integer');
  };
}

/** Finite number parser. */
export function parseNumber(range: RangeOptions = {}): (raw: string) => number {
  return (raw) => {
    const x = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(x)) throw new OptionValueError(`expected a finite number, got '${raw}'`);
    return checkRange(x, range, raw, 'a number');
  };
}

/** One of a fixed list of strings. */
export function parseChoice<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new OptionValueError(`expected one of ${choices.join(', ')}; got '${raw}'`);
    }
    return raw as T;
  };
}

/** Option-spec builders, so an experiment's option list reads like its `--help`. */
export const option = {
  integer(
    flags: string,
    description: string,
    defaultValue: number,
    range: RangeOptions = {},
  ): OptionSpec<number> {
    const r = describeRange(range);
    return {
      flags,
      description: r ? `${description} (${r})` : description,
      defaultValue,
      parse: parseInteger(range),
    };
  },
  number(
    flags: string,
    description: string,
    defaultValue: number,
    range: RangeOptions = {},
  ): OptionSpec<number> {
    const r = describeRange(range);
    return {
      flags,
      description: r ? `${description} (${r})` : description,
      defaultValue,
      parse: parseNumber(range),
    };
  },
  choice<T extends string>(
    flags: string,
    description: string,
    defaultValue: T,
    choices: readonly T[],
  ): OptionSpec<T> {
    return { flags, description, defaultValue, parse: parseChoice(choices), choices };
  },
  string(flags: string, description: string, defaultValue: string): OptionSpec<string> {
    return { flags, description, defaultValue, parse: (raw) => raw };
  },
  flag(flags: string, description: string): OptionSpec<boolean> {
    return { flags, description, defaultValue: false };
  },
} as const;
