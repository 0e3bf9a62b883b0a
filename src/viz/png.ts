/**
 * Raster backend: draws the same scene as the SVG writer into an RGBA buffer (raster.ts) and encodes it as
 * PNG with pngjs. Text uses the built-in bitmap font (font.ts) scaled by an integer factor, so labels stay
 * crisp and need no system fonts.
 */

import pngjs from 'pngjs';
import { VizError } from './errors.js';
import type { Figure } from './figure.js';
import { GLYPH_ADVANCE, GLYPH_ASCENT, glyph } from './font.js';
import { layoutFigure } from './layout.js';
import { type ClipRect, dashPolylines, discMask, fillMask, type Mask, Raster, strokeMask } from './raster.js';
import type { MarkersItem, PathItem, Rect, RectItem, Scene, TextItem } from './scene.js';

export interface RasterOptions {
  /** Device pixels per figure pixel (default 2, for sharp figures on high-density screens and in print). */
  readonly scale?: number;
}

function clipOf(rect: Rect | undefined, s: number): ClipRect | undefined {
  return rect
    ? { x0: rect.x * s, y0: rect.y * s, x1: (rect.x + rect.w) * s, y1: (rect.y + rect.h) * s }
    : undefined;
}

function scaled(points: readonly number[], s: number): number[] {
  return points.map((v) => v * s);
}

function drawPath(r: Raster, item: PathItem, s: number): void {
  const clip = clipOf(item.clip, s);
  if (item.fill) {
    const polygons = item.subpaths
      .filter((sp) => sp.closed && sp.points.length >= 6)
      .map((sp) => scaled(sp.points, s));
    if (polygons.length > 0) r.blend(fillMask(r, polygons, clip), item.fill, item.fillOpacity ?? 1);
  }
  if (item.stroke) {
    let lines = item.subpaths
      .filter((sp) => sp.points.length >= 2)
      .map((sp) => scaled(sp.closed ? [...sp.points, sp.points[0], sp.points[1]] : sp.points, s));
    if (item.dash && item.dash.length > 0)
      lines = dashPolylines(
        lines,
        item.dash.map((d) => d * s),
      );
    if (lines.length > 0)
      r.blend(strokeMask(r, lines, (item.strokeWidth ?? 1) * s, clip), item.stroke, item.strokeOpacity ?? 1);
  }
}

function markerOutline(shape: MarkersItem['shape'], x: number, y: number, radius: number): number[] {
  switch (shape) {
    case 'circle': {
      const out: number[] = [];
      for (let k = 0; k < 24; k++)
        out.push(x + radius * Math.cos((k * Math.PI) / 12), y + radius * Math.sin((k * Math.PI) / 12));
      return out;
    }
    case 'square': {
      const h = radius * 0.88;
      return [x - h, y - h, x + h, y - h, x + h, y + h, x - h, y + h];
    }
    case 'triangle': {
      const h = radius * 1.15;
      return [x, y - h, x + h * 0.866, y + h * 0.5, x - h * 0.866, y + h * 0.5];
    }
    case 'diamond': {
      const h = radius * 1.2;
      return [x, y - h, x + h, y, x, y + h, x - h, y];
    }
  }
}

function drawMarkers(r: Raster, item: MarkersItem, s: number): void {
  if (item.points.length === 0) return;
  const clip = clipOf(item.clip, s);
  const radius = (item.size / 2) * s;
  const centres = scaled(item.points, s);
  const outlines: number[][] = [];
  for (let i = 0; i < centres.length; i += 2)
    outlines.push(markerOutline(item.shape, centres[i], centres[i + 1], radius));
  const fill = item.shape === 'circle' ? discMask(r, centres, radius, clip) : fillMask(r, outlines, clip);
  r.blend(fill, item.fill, item.opacity);
  if (item.edge) {
    const closed = outlines.map((o) => [...o, o[0], o[1]]);
    r.blend(strokeMask(r, closed, 0.75 * s, clip), item.edge, item.opacity);
  }
}

function drawRect(r: Raster, item: RectItem, s: number): void {
  const poly = [
    item.x,
    item.y,
    item.x + item.w,
    item.y,
    item.x + item.w,
    item.y + item.h,
    item.x,
    item.y + item.h,
  ].map((v) => v * s);
  if (item.fill) r.blend(fillMask(r, [poly]), item.fill, item.fillOpacity ?? 1);
  if (item.stroke)
    r.blend(strokeMask(r, [[...poly, poly[0], poly[1]]], (item.strokeWidth ?? 1) * s), item.stroke);
}

/** Glyph unit in device pixels for a font size: a glyph is 5 × 7 units. */
function glyphUnit(size: number, s: number): number {
  return Math.max(1, Math.round((size * s) / 10));
}

function runWidth(text: string, unit: number): number {
  const n = [...text].length;
  return n === 0 ? 0 : n * GLYPH_ADVANCE * unit - unit;
}

/** Sets mask pixels for a run of glyphs whose top-left (in text coordinates) is (u0, v0). */
function stampRun(
  mask: Mask,
  text: string,
  unit: number,
  u0: number,
  v0: number,
  place: (u: number, v: number) => [number, number],
  bold: boolean,
): void {
  let u = u0;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let row = 0; row < rows.length; row++) {
      const bits = rows[row];
      if (bits === 0) continue;
      for (let col = 0; col < 5; col++) {
        if (!(bits & (1 << (4 - col)))) continue;
        const extra = bold ? Math.max(1, Math.floor(unit / 2)) : 0;
        for (let a = 0; a < unit + extra; a++) {
          for (let b = 0; b < unit; b++) {
            const [x, y] = place(u + col * unit + a, v0 + row * unit + b);
            const i = x - mask.x0;
            const j = y - mask.y0;
            if (i >= 0 && j >= 0 && i < mask.w && j < mask.h) mask.data[j * mask.w + i] = 1;
          }
        }
      }
    }
    u += GLYPH_ADVANCE * unit;
  }
}

function drawText(r: Raster, item: TextItem, s: number): void {
  const unit = glyphUnit(item.size, s);
  const expUnit = Math.max(1, Math.round(unit * 0.7));
  const mainWidth = runWidth(item.text, unit);
  const expWidth = item.exponent === undefined ? 0 : unit + runWidth(item.exponent, expUnit);
  const width = mainWidth + expWidth;
  const ascent = GLYPH_ASCENT * unit;
  // Text coordinates: u along the text from its left end, v down from the top of the capitals.
  const uAnchor = item.anchor === 'start' ? 0 : item.anchor === 'middle' ? Math.round(width / 2) : width;
  const vAnchor = item.baseline === 'top' ? 0 : item.baseline === 'middle' ? Math.round(ascent / 2) : ascent;
  const X = Math.round(item.x * s);
  const Y = Math.round(item.y * s);
  const place: (u: number, v: number) => [number, number] =
    item.rotate === -90
      ? (u, v) => [X + (v - vAnchor), Y - (u - uAnchor)]
      : (u, v) => [X + (u - uAnchor), Y + (v - vAnchor)];
  const expRise = Math.round(0.45 * item.size * s);
  const vTop = -Math.max(0, expRise + GLYPH_ASCENT * expUnit - ascent);
  const corners = [
    place(0, vTop - 2),
    place(width + unit, vTop - 2),
    place(0, ascent + 3 * unit),
    place(width + unit, ascent + 3 * unit),
  ];
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  const mask = r.maskFor(Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys));
  if (mask.w === 0 || mask.h === 0) return;
  stampRun(mask, item.text, unit, 0, 0, place, item.bold === true);
  if (item.exponent !== undefined) {
    const expTop = ascent - expRise - GLYPH_ASCENT * expUnit;
    stampRun(mask, item.exponent, expUnit, mainWidth + unit, expTop, place, false);
  }
  r.blend(mask, item.color);
}

/** Draws a scene into a new raster `scale` times the figure size. */
export function sceneToRaster(scene: Scene, options: RasterOptions = {}): Raster {
  const s = options.scale ?? 2;
  if (!(Number.isFinite(s) && s > 0 && s <= 8))
    throw new VizError('invalidArgument', `scale must be in (0, 8], got ${s}`);
  const r = new Raster(Math.round(scene.width * s), Math.round(scene.height * s), scene.background);
  for (const item of scene.items) {
    switch (item.kind) {
      case 'path':
        drawPath(r, item, s);
        break;
      case 'markers':
        drawMarkers(r, item, s);
        break;
      case 'rect':
        drawRect(r, item, s);
        break;
      case 'text':
        drawText(r, item, s);
        break;
    }
  }
  return r;
}

/** Draws a figure into an RGBA raster. */
export function renderRaster(figure: Figure, options: RasterOptions = {}): Raster {
  return sceneToRaster(layoutFigure(figure), options);
}

/** Encodes an RGBA raster as PNG. */
export function encodePng(raster: Raster): Uint8Array {
  const png = new pngjs.PNG({ width: raster.width, height: raster.height });
  png.data = Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength);
  // Figures are opaque, so RGB suffices. Paeth filtering and zlib level 6 give files about as small as
  // pngjs's exhaustive defaults in about half the time.
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType: 2, filterType: 4, deflateLevel: 6 }));
}

/** Renders a figure to PNG bytes. */
export function renderPng(figure: Figure, options: RasterOptions = {}): Uint8Array {
  return encodePng(renderRaster(figure, options));
}
