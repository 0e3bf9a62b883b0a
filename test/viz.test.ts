import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { glyph, hasGlyph } from '../src/viz/font.js';
import {
  combineFigures,
  type Figure,
  linearTicks,
  linePlot,
  logTicks,
  lossCurve,
  niceStep,
  phasePortrait,
  renderPng,
  renderRaster,
  renderSvg,
  streamlines,
  VizError,
  vectorField,
  workPrecision,
} from '../src/viz/index.js';

/** A tiny XML well-formedness check: balanced tags, proper nesting, one root. */
function checkWellFormed(xml: string): { root: string; elements: { name: string; attrs: string }[] } {
  const stack: string[] = [];
  const elements: { name: string; attrs: string }[] = [];
  let root = '';
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    expect(between, `stray markup before <${m[2]}>`).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    const [, closing, name, attrs, selfClosing] = m;
    if (closing) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
      continue;
    }
    if (stack.length === 0) {
      expect(root, 'a second root element').toBe('');
      root = name;
    }
    elements.push({ name, attrs });
    if (!selfClosing) stack.push(name);
  }
  expect(xml.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  return { root, elements };
}

function seriesPaths(svg: string): string[] {
  return [...svg.matchAll(/<path class="series series-(\d+)/g)].map((m) => m[1]);
}

const t = Array.from({ length: 101 }, (_, i) => i / 10);

describe('ticks', () => {
  it('picks nice steps of 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(1, 4)).toBe(0.25);
    expect(niceStep(0.07, 7)).toBeCloseTo(0.01, 15);
    expect(niceStep(3600, 6)).toBe(1000);
    for (const span of [0.013, 0.9, 7, 42, 999, 12345]) {
      const step = niceStep(span, 6);
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
      expect([1, 2, 2.5, 5]).toContainEqual(Number(mantissa.toFixed(6)));
      expect(span / step).toBeLessThanOrEqual(6 + 1e-9);
    }
  });

  it('linear ticks lie inside the limits at multiples of the step with consistent labels', () => {
    const ticks = linearTicks(-0.37, 1.82, 6);
    expect(ticks.map((k) => k.value)).toEqual([0, 0.5, 1, 1.5]);
    const values = ticks.map((k) => k.value);
    expect(values[0]).toBeGreaterThanOrEqual(-0.37);
    expect(values[values.length - 1]).toBeLessThanOrEqual(1.82);
    const step = values[1] - values[0];
    for (let i = 1; i < values.length; i++) expect(values[i] - values[i - 1]).toBeCloseTo(step, 12);
    expect(linearTicks(0, 1, 5).map((k) => k.label)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(linearTicks(-10, 10, 4).map((k) => k.label)).toEqual(['\u221210', '\u22125', '0', '5', '10']);
    expect(linearTicks(0, 3e6, 3).map((k) => k.label)).toEqual(['0', '1e6', '2e6', '3e6']);
  });

  it('log ticks: one per decade with exponent labels, minor ticks, thinned for wide ranges', () => {
    const ticks = logTicks(1e-4, 1, 6);
    const major = ticks.filter((k) => !k.minor);
    expect(major.map((k) => k.value)).toEqual([1e-4, 1e-3, 1e-2, 1e-1, 1]);
    expect(major.map((k) => k.exponent)).toEqual(['\u22124', '\u22123', '\u22122', '\u22121', '0']);
    expect(ticks.filter((k) => k.minor).length).toBe(4 * 8);
    const wide = logTicks(1e-12, 1e3, 6).filter((k) => !k.minor);
    expect(wide.length).toBeLessThanOrEqual(8);
    expect(wide.length).toBeGreaterThanOrEqual(4);
    expect(logTicks(1e-12, 1e3, 6).some((k) => k.minor)).toBe(false);
    // Less than a decade still gets labelled ticks.
    const narrow = logTicks(2, 9, 6).filter((k) => !k.minor);
    expect(narrow.length).toBeGreaterThanOrEqual(2);
    expect(() => logTicks(0, 1)).toThrow(/positive/);
  });
});

describe('svg backend', () => {
  it('writes a well-formed document with a viewBox and one path per series', () => {
    const fig: Figure = {
      width: 500,
      height: 300,
      title: 'A & B <test>',
      panels: [
        {
          title: 'panel',
          xLabel: 't',
          yLabel: 'y',
          series: [
            { kind: 'line', x: t, y: t.map(Math.sin), label: 'sin' },
            { kind: 'scatter', x: [1, 2, 3], y: [0, 0.5, 1], label: 'points' },
            {
              kind: 'band',
              x: t,
              lower: t.map((v) => Math.sin(v) - 0.2),
              upper: t.map((v) => Math.sin(v) + 0.2),
            },
            { kind: 'quiver', x: [1, 2], y: [0, 0], u: [1, 0], v: [0, 1] },
            {
              kind: 'polylines',
              lines: [
                { x: [0, 1, 2], y: [0, 1, 0] },
                { x: [3, 4], y: [1, 1] },
              ],
              arrows: true,
            },
          ],
        },
      ],
    };
    const svg = renderSvg(fig);
    const { root, elements } = checkWellFormed(svg);
    expect(root).toBe('svg');
    expect(svg).toMatch(/viewBox="0 0 500 300"/);
    expect(seriesPaths(svg)).toEqual(['0', '1', '2', '3', '4']);
    expect(svg).toContain('A &amp; B &lt;test&gt;');
    expect(elements.filter((e) => e.name === 'text' && /legend-text/.test(e.attrs))).toHaveLength(2);
    expect(elements.some((e) => e.name === 'clipPath')).toBe(true);
  });

  it('breaks lines at NaN and at non-positive values on log axes', () => {
    const y = [1, 2, Number.NaN, 4, 5];
    const svg = renderSvg(linePlot({ y }));
    const d = /<path class="series series-0[^"]*" d="([^"]*)"/.exec(svg)![1];
    expect(d.match(/M/g)).toHaveLength(2);
    const log = renderSvg(lossCurve([1, 0.5, 0, 0.1, 0.01]));
    const dl = /<path class="series series-0[^"]*" d="([^"]*)"/.exec(log)![1];
    expect(dl.match(/M/g)).toHaveLength(2);
    expect(log).toContain('<tspan');
  });

  it('plot helpers produce the expected series', () => {
    const wp = workPrecision([
      { method: 'a', error: [1e-3, 1e-5], cost: [10, 100] },
      { method: 'b', error: [1e-4, 1e-6], cost: [20, 300] },
    ]);
    expect(wp.panels[0].xScale).toBe('log');
    expect(wp.panels[0].yScale).toBe('log');
    expect(seriesPaths(renderSvg(wp))).toEqual(['0', '1']);
    const vf = vectorField((x, y) => [-y, x], { xRange: [-1, 1], yRange: [-1, 1], arrows: 5 });
    const kinds = vf.panels[0].series.map((s) => s.kind);
    expect(kinds).toEqual(['polylines', 'quiver']);
    const quiver = vf.panels[0].series[1];
    expect(quiver.kind === 'quiver' && quiver.x.length).toBe(25);
    const pp = phasePortrait([{ x: [0, 1, 0], y: [0, 0, 1], label: 'traj' }], { field: (x, y) => [y, -x] });
    expect(pp.panels[0].aspect).toBe('equal');
    const combined = combineFigures([wp, vf, pp], { columns: 2 });
    expect(combined.panels).toHaveLength(3);
    checkWellFormed(renderSvg(combined));
  });

  it('rejects malformed figures with the field named', () => {
    expect(() => renderSvg({ panels: [] })).toThrow(/panels/);
    expect(() => renderSvg({ panels: [{ series: [{ kind: 'line', x: [1, 2], y: [1] }] }] })).toThrow(
      /panels\[0\]\.series\[0\]: x has 2 values but y has 1/,
    );
    expect(() => renderSvg({ panels: [{ yScale: 'log', yLimits: [0, 1], series: [] }] })).toThrow(
      /positive on a log axis/,
    );
    try {
      renderSvg({ panels: [{ series: [{ kind: 'scatter', x: [1], y: [1], opacity: 2 }] }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VizError);
      expect((e as VizError).code).toBe('invalidFigure');
      expect((e as VizError).message).toMatch(/series\[0\]\.opacity must be in \[0, 1\], got 2/);
    }
  });
});

describe('raster backend', () => {
  it('draws a decodable PNG of the right size with ink on the line and background elsewhere', () => {
    // A horizontal line at y = 0.5 across [0, 1] × [0, 1].
    const fig: Figure = {
      width: 200,
      height: 150,
      panels: [
        {
          xLimits: [0, 1],
          yLimits: [0, 1],
          grid: false,
          series: [{ kind: 'line', x: [0, 1], y: [0.5, 0.5], color: '#0072b2', width: 2 }],
        },
      ],
    };
    const png = pngjs.PNG.sync.read(Buffer.from(renderPng(fig, { scale: 2 })));
    expect(png.width).toBe(400);
    expect(png.height).toBe(300);
    const raster = renderRaster(fig, { scale: 2 });
    expect(Buffer.compare(Buffer.from(png.data), Buffer.from(raster.data))).toBe(0);
    // Find the plot frame from the layout: scan the middle column for the line colour.
    const px = (x: number, y: number) => {
      const k = 4 * (y * png.width + x);
      return [png.data[k], png.data[k + 1], png.data[k + 2]];
    };
    let lineRows = 0;
    for (let y = 0; y < png.height; y++) {
      const [r, g, b] = px(png.width / 2, y);
      if (b > 150 && r < 40 && g < 140) lineRows++;
    }
    expect(lineRows).toBeGreaterThanOrEqual(3); // 2 px wide at scale 2 is 4 device pixels
    expect(lineRows).toBeLessThanOrEqual(6);
    // Just above and below the line inside the plot the background is white.
    let lineY = -1;
    for (let y = 0; y < png.height && lineY < 0; y++) {
      const [r, , b] = px(png.width / 2, y);
      if (b > 150 && r < 40) lineY = y;
    }
    expect(px(png.width / 2, lineY - 12)).toEqual([255, 255, 255]);
    expect(px(png.width / 2, lineY + 16)).toEqual([255, 255, 255]);
    // Anti-aliasing: a sloped line produces intermediate shades.
    const slope = renderRaster({
      panels: [{ grid: false, series: [{ kind: 'line', x: [0, 1], y: [0, 0.3], color: '#000000' }] }],
    });
    const shades = new Set<number>();
    for (let i = 0; i < slope.data.length; i += 4) shades.add(slope.data[i]);
    expect(shades.size).toBeGreaterThan(20);
  });

  it('renders text with the bitmap font', () => {
    const base: Figure = {
      width: 200,
      height: 150,
      panels: [{ grid: false, xLimits: [0, 1], yLimits: [0, 1], series: [] }],
    };
    const ink = (f: Figure) => {
      const r = renderRaster(f, { scale: 2 });
      let n = 0;
      for (let i = 0; i < r.data.length; i += 4) if (r.data[i] < 128) n++;
      return n;
    };
    const withTitle = ink({ ...base, title: 'Hello' });
    const without = ink(base);
    // "Hello" at 15 px with a 3-px glyph unit: at least a few dozen 3×3 blocks of ink.
    expect(withTitle - without).toBeGreaterThan(200);
    for (const ch of 'abcxyzABCXYZ0123456789.,:-+()[]=^_') {
      expect(hasGlyph(ch)).toBe(true);
      expect(glyph(ch).some((row) => row !== 0)).toBe(true);
    }
    expect(hasGlyph('\u2212')).toBe(true);
  });
});

describe('streamlines', () => {
  it('follow a rotation field on circles', () => {
    const lines = streamlines((x, y) => [-y, x], { xRange: [-1, 1], yRange: [-1, 1] });
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const r0 = Math.hypot(line.x[0], line.y[0]);
      for (let i = 0; i < line.x.length; i++) {
        // RK4 keeps the radius to ~1e-6 over a loop; forward Euler with this step would drift by ~3%.
        expect(Math.abs(Math.hypot(line.x[i], line.y[i]) - r0)).toBeLessThan(1e-4 * r0);
      }
    }
  });

  it('stay inside the domain and stop at a sink', () => {
    const lines = streamlines((x, y) => [-x, -y], { xRange: [-2, 2], yRange: [-1, 3] });
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      for (let i = 0; i < line.x.length; i++) {
        expect(line.x[i]).toBeGreaterThanOrEqual(-2);
        expect(line.x[i]).toBeLessThanOrEqual(2);
        expect(line.y[i]).toBeGreaterThanOrEqual(-1);
        expect(line.y[i]).toBeLessThanOrEqual(3);
      }
    }
    expect(() => streamlines((x) => [x, 0], { xRange: [1, 0], yRange: [0, 1] })).toThrow(/xRange/);
  });
});
