/**
 * Parsing of multivariate, irregularly sampled time series from CSV: a header row `id,time,<var>,…` and one
 * row per observation. Rows of a series need not be contiguous, but each series' times must be strictly
 * increasing in file order. An empty value cell is a missing value (NaN), masked out of the likelihood. The
 * parser is pure (text in, data out) and refuses a malformed file with the line number and the reason.
 * Quoted fields are not supported: ids and variable names are plain tokens.
 */

export type SeriesCsvErrorCode =
  | 'emptyFile'
  | 'badHeader'
  | 'quotedField'
  | 'fieldCount'
  | 'missingId'
  | 'badTime'
  | 'badValue'
  | 'timeOrder'
  | 'noRows';

export class SeriesCsvError extends Error {
  readonly code: SeriesCsvErrorCode;
  /** 1-based line number of the offending line (0 when the whole file is at fault). */
  readonly line: number;

  constructor(code: SeriesCsvErrorCode, line: number, reason: string) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
    this.name = 'SeriesCsvError';
    this.code = code;
    this.line = line;
  }
}

export interface CsvSeries {
  readonly id: string;
  /** Observation times, strictly increasing. */
  readonly times: Float64Array;
  /** [times.length, variables.length] row-major; NaN marks a missing value. */
  readonly values: Float64Array;
}

export interface SeriesCsv {
  readonly variables: readonly string[];
  /** In order of first appearance. */
  readonly series: readonly CsvSeries[];
}

function parseNumber(field: string): number {
  // Number('') is 0 and Number(' ') too; only accept what looks like a number.
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(field)) return Number.NaN;
  return Number(field);
}

/** Parses the CSV text; throws {@link SeriesCsvError} naming the line and the reason. */
export function parseSeriesCsv(text: string): SeriesCsv {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerLine = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '') {
      headerLine = i;
      break;
    }
  }
  if (headerLine < 0)
    throw new SeriesCsvError(
      'emptyFile',
      0,
      'the file is empty (expected a header row id,time,<variable>,…)',
    );
  const splitLine = (i: number): string[] => {
    if (lines[i].includes('"')) {
      throw new SeriesCsvError('quotedField', i + 1, 'quoted fields are not supported; remove the quotes');
    }
    return lines[i].split(',').map((f) => f.trim());
  };
  const header = splitLine(headerLine);
  if (header.length < 3) {
    throw new SeriesCsvError(
      'badHeader',
      headerLine + 1,
      `the header has ${header.length} column(s); expected at least 3: series id, time, one or more variables`,
    );
  }
  const seen = new Set<string>();
  header.forEach((name, c) => {
    if (name === '')
      throw new SeriesCsvError('badHeader', headerLine + 1, `header column ${c + 1} has no name`);
    if (seen.has(name))
      throw new SeriesCsvError('badHeader', headerLine + 1, `header column name '${name}' appears twice`);
    seen.add(name);
  });
  const variables = header.slice(2);
  const D = variables.length;
  const rows = new Map<string, { times: number[]; values: number[]; lastLine: number }>();
  let count = 0;
  for (let i = headerLine + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const line = i + 1;
    const fields = splitLine(i);
    if (fields.length !== header.length) {
      throw new SeriesCsvError(
        'fieldCount',
        line,
        `${fields.length} fields, but the header has ${header.length}`,
      );
    }
    const id = fields[0];
    if (id === '')
      throw new SeriesCsvError('missingId', line, `the series id (column '${header[0]}') is empty`);
    const t = parseNumber(fields[1]);
    if (!Number.isFinite(t)) {
      throw new SeriesCsvError(
        'badTime',
        line,
        `time '${fields[1]}' (column '${header[1]}') is not a finite number`,
      );
    }
    const entry = rows.get(id) ?? { times: [], values: [], lastLine: 0 };
    if (entry.times.length > 0 && !(t > entry.times[entry.times.length - 1])) {
      throw new SeriesCsvError(
        'timeOrder',
        line,
        `time ${t} of series '${id}' is not after its previous time ${entry.times[entry.times.length - 1]} (line ${entry.lastLine}); times must increase within a series`,
      );
    }
    for (let d = 0; d < D; d++) {
      const f = fields[2 + d];
      if (f === '') {
        entry.values.push(Number.NaN);
        continue;
      }
      const v = parseNumber(f);
      if (!Number.isFinite(v)) {
        throw new SeriesCsvError(
          'badValue',
          line,
          `value '${f}' of variable '${variables[d]}' is not a finite number (leave the cell empty for a missing value)`,
        );
      }
      entry.values.push(v);
    }
    entry.times.push(t);
    entry.lastLine = line;
    rows.set(id, entry);
    count++;
  }
  if (count === 0)
    throw new SeriesCsvError('noRows', headerLine + 1, 'the header is not followed by any data row');
  const series = [...rows].map(([id, e]) => ({
    id,
    times: Float64Array.from(e.times),
    values: Float64Array.from(e.values),
  }));
  return { variables, series };
}

/** Writes series as CSV text in the same format (missing values as empty cells). */
export function formatSeriesCsv(
  variables: readonly string[],
  series: readonly CsvSeries[],
  header = ['id', 'time'],
): string {
  const out = [[...header, ...variables].join(',')];
  for (const s of series) {
    for (let k = 0; k < s.times.length; k++) {
      const cells = [s.id, String(s.times[k])];
      for (let d = 0; d < variables.length; d++) {
        const v = s.values[k * variables.length + d];
        cells.push(Number.isNaN(v) ? '' : String(v));
      }
      out.push(cells.join(','));
    }
  }
  return `${out.join('\n')}\n`;
}
