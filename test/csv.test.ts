import { describe, expect, it } from 'vitest';
import { formatSeriesCsv, parseSeriesCsv, SeriesCsvError } from '../src/data/csv.js';

function failure(text: string): SeriesCsvError {
  try {
    parseSeriesCsv(text);
  } catch (e) {
    expect(e).toBeInstanceOf(SeriesCsvError);
    return e as SeriesCsvError;
  }
  throw new Error('expected parseSeriesCsv to throw');
}

describe('parseSeriesCsv', () => {
  it('groups rows by series (interleaved), keeps file order and reads empty cells as missing', () => {
    const csv = '\uFEFFid,time,x,y\r\na,0,1,2\r\nb,0.5,3,\r\na,1.5,,4\r\n\r\nb,2,5e-1,-6\r\n';
    const { variables, series } = parseSeriesCsv(csv);
    expect(variables).toEqual(['x', 'y']);
    expect(series.map((s) => s.id)).toEqual(['a', 'b']);
    expect(Array.from(series[0].times)).toEqual([0, 1.5]);
    expect(Array.from(series[0].values)).toEqual([1, 2, Number.NaN, 4]);
    expect(Array.from(series[1].times)).toEqual([0.5, 2]);
    expect(Array.from(series[1].values)).toEqual([3, Number.NaN, 0.5, -6]);
  });

  it('round-trips through formatSeriesCsv', () => {
    const csv = 'id,time,x,y\na,0,1,2\na,1,,4\nb,0.25,3,\n';
    const parsed = parseSeriesCsv(csv);
    expect(formatSeriesCsv(parsed.variables, parsed.series)).toBe(csv);
  });

  const cases: [string, string, string, number, RegExp][] = [
    ['empty file', '\n\n', 'emptyFile', 0, /empty/],
    ['too few header columns', 'id,time\n', 'badHeader', 1, /at least 3/],
    ['duplicate header name', 'id,time,x,x\n', 'badHeader', 1, /'x' appears twice/],
    ['empty header name', 'id,,x\n', 'badHeader', 1, /column 2 has no name/],
    ['quoted field', 'id,time,x\n"a",0,1\n', 'quotedField', 2, /quoted/],
    ['wrong field count', 'id,time,x,y\na,0,1,2\na,1,3\n', 'fieldCount', 3, /3 fields, but the header has 4/],
    ['empty id', 'id,time,x\n,0,1\n', 'missingId', 2, /series id/],
    ['non-numeric time', 'id,time,x\na,0,1\na,soon,2\n', 'badTime', 3, /time 'soon'/],
    ['empty time', 'id,time,x\n\na,,2\n', 'badTime', 3, /time ''/],
    ['non-numeric value', 'id,time,x,y\na,0,1,abc\n', 'badValue', 2, /value 'abc' of variable 'y'/],
    ['infinite value', 'id,time,x\na,0,Infinity\n', 'badValue', 2, /'Infinity'/],
    ['time not increasing', 'id,time,x\na,1,1\nb,0,1\na,1,2\n', 'timeOrder', 4, /series 'a'.*line 2/],
    ['header only', 'id,time,x\n', 'noRows', 1, /not followed/],
  ];
  for (const [name, text, code, line, message] of cases) {
    it(`refuses a file with ${name}: code ${code}, line ${line}`, () => {
      const e = failure(text);
      expect(e.code).toBe(code);
      expect(e.line).toBe(line);
      expect(e.message).toMatch(message);
      if (line > 0) expect(e.message).toMatch(new RegExp(`^line ${line}: `));
    });
  }
});
