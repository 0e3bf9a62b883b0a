/**
 * An RGBA raster with anti-aliased drawing, enough to render figures without a graphics library.
 *
 * Every shape is first rasterised into a coverage mask (fraction of each pixel covered, 0..1) over its
 * bounding box and then blended once with its colour and opacity. Rendering into a mask first keeps
 * translucent strokes uniform where segments of one polyline overlap at joints.
 *  - Strokes: coverage of a pixel centre by the capsule (segment ⊕ disc) of half-width w/2, with a one-pixel
 *    linear ramp at the edge; the maximum over a polyline's segments gives round joins and caps.
 *  - Fills: non-zero winding scanline fill with 4 sub-scanlines per row and exact horizontal span coverage.
 *  - Discs: distance from the centre with the same edge ramp.
 */
import { VizError } from './errors.js';
import { parseColor } from './palette.js';

export interface ClipRect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** A coverage mask over the pixel box [x0, x0 + w) × [y0, y0 + h). */
export class Mask {
  readonly data: Float32Array;
  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly w: number,
    readonly h: number,
  ) {
    this.data = new Float32Array(Math.max(0, w) * Math.max(0, h));
  }
}

const SUBSAMPLES = 4;

export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background = '#ffffff',
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new VizError(
        'invalidArgument',
        `Raster: width and height must be positive integers, got ${width} × ${height}`,
      );
    }
    this.data = new Uint8Array(width * height * 4);
    const [r, g, b] = parseColor(background);
    for (let i = 0; i < width * height; i++) {
      this.data[4 * i] = r;
      this.data[4 * i + 1] = g;
      this.data[4 * i + 2] = b;
      this.data[4 * i + 3] = 255;
    }
  }

  /** The mask box covering [xMin, xMax] × [yMin, yMax] (plus a pixel of margin), cut to the clip and raster. */
  maskFor(xMin: number, yMin: number, xMax: number, yMax: number, clip?: ClipRect): Mask {
    let x0 = Math.max(0, Math.floor(xMin) - 1);
    let y0 = Math.max(0, Math.floor(yMin) - 1);
    let x1 = Math.min(this.width, Math.ceil(xMax) + 2);
    let y1 = Math.min(this.height, Math.ceil(yMax) + 2);
    if (clip) {
      x0 = Math.max(x0, Math.floor(clip.x0));
      y0 = Math.max(y0, Math.floor(clip.y0));
      x1 = Math.min(x1, Math.ceil(clip.x1));
      y1 = Math.min(y1, Math.ceil(clip.y1));
    }
    return new Mask(x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0));
  }

  /** Blends `color` at `opacity` through the mask. */
  blend(mask: Mask, color: string, opacity = 1): void {
    const [r, g, b] = parseColor(color);
    const { data } = this;
    for (let j = 0; j < mask.h; j++) {
      const row = (mask.y0 + j) * this.width;
      for (let i = 0; i < mask.w; i++) {
        const a = mask.data[j * mask.w + i] * opacity;
        if (a <= 0) continue;
        const k = 4 * (row + mask.x0 + i);
        const keep = 1 - Math.min(1, a);
        data[k] = Math.round(data[k] * keep + r * (1 - keep));
        data[k + 1] = Math.round(data[k + 1] * keep + g * (1 - keep));
        data[k + 2] = Math.round(data[k + 2] * keep + b * (1 - keep));
      }
    }
  }

  /** RGBA of one pixel (tests). */
  pixel(x: number, y: number): [number, number, number, number] {
    const k = 4 * (y * this.width + x);
    return [this.data[k], this.data[k + 1], this.data[k + 2], this.data[k + 3]];
  }
}

/** Adds the stroke of polylines (flat point lists) of width `width` to a new mask. */
export function strokeMask(
  raster: Raster,
  polylines: readonly (readonly number[])[],
  width: number,
  clip?: ClipRect,
): Mask {
  // Lines thinner than a pixel are drawn one pixel wide at proportionally lower coverage.
  const half = Math.max(width, 1) / 2;
  const weight = Math.min(width, 1);
  let xMin = Infinity;
  let yMin = Infinity;
  let xMax = -Infinity;
  let yMax = -Infinity;
  for (const p of polylines) {
    for (let i = 0; i < p.length; i += 2) {
      xMin = Math.min(xMin, p[i]);
      xMax = Math.max(xMax, p[i]);
      yMin = Math.min(yMin, p[i + 1]);
      yMax = Math.max(yMax, p[i + 1]);
    }
  }
  const mask = raster.maskFor(xMin - half, yMin - half, xMax + half, yMax + half, clip);
  if (mask.w === 0 || mask.h === 0) return mask;
  for (const p of polylines) {
    if (p.length === 2) segment(mask, p[0], p[1], p[0], p[1], half, weight);
    for (let i = 2; i < p.length; i += 2) segment(mask, p[i - 2], p[i - 1], p[i], p[i + 1], half, weight);
  }
  return mask;
}

function segment(
  mask: Mask,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  half: number,
  weight: number,
): void {
  const reach = half + 1;
  const i0 = Math.max(0, Math.floor(Math.min(ax, bx) - reach) - mask.x0);
  const i1 = Math.min(mask.w - 1, Math.ceil(Math.max(ax, bx) + reach) - mask.x0);
  const j0 = Math.max(0, Math.floor(Math.min(ay, by) - reach) - mask.y0);
  const j1 = Math.min(mask.h - 1, Math.ceil(Math.max(ay, by) + reach) - mask.y0);
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  for (let j = j0; j <= j1; j++) {
    const py = mask.y0 + j + 0.5;
    for (let i = i0; i <= i1; i++) {
      const px = mask.x0 + i + 0.5;
      let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
      t = Math.min(1, Math.max(0, t));
      const ex = px - (ax + t * dx);
      const ey = py - (ay + t * dy);
      const d = Math.sqrt(ex * ex + ey * ey);
      let c = half + 0.5 - d;
      if (c <= 0) continue;
      c = Math.min(1, c) * weight;
      const k = j * mask.w + i;
      if (c > mask.data[k]) mask.data[k] = c;
    }
  }
}

/** Non-zero fill of closed polygons (flat point lists) into a new mask. */
export function fillMask(raster: Raster, polygons: readonly (readonly number[])[], clip?: ClipRect): Mask {
  let xMin = Infinity;
  let yMin = Infinity;
  let xMax = -Infinity;
  let yMax = -Infinity;
  const edges: number[] = []; // x0, y0, x1, y1, winding
  for (const p of polygons) {
    const n = p.length / 2;
    if (n < 3) continue;
    for (let i = 0; i < n; i++) {
      const x0 = p[2 * i];
      const y0 = p[2 * i + 1];
      const x1 = p[(2 * i + 2) % p.length];
      const y1 = p[(2 * i + 3) % p.length];
      xMin = Math.min(xMin, x0);
      xMax = Math.max(xMax, x0);
      yMin = Math.min(yMin, y0);
      yMax = Math.max(yMax, y0);
      if (y0 !== y1) edges.push(x0, y0, x1, y1, y1 > y0 ? 1 : -1);
    }
  }
  const mask = raster.maskFor(xMin, yMin, xMax, yMax, clip);
  if (mask.w === 0 || mask.h === 0 || edges.length === 0) return mask;
  const crossings: { x: number; w: number }[] = [];
  const row = new Float32Array(mask.w + 1);
  for (let j = 0; j < mask.h; j++) {
    row.fill(0);
    for (let s = 0; s < SUBSAMPLES; s++) {
      const y = mask.y0 + j + (s + 0.5) / SUBSAMPLES;
      crossings.length = 0;
      for (let e = 0; e < edges.length; e += 5) {
        const y0 = edges[e + 1];
        const y1 = edges[e + 3];
        if ((y >= y0 && y < y1) || (y >= y1 && y < y0)) {
          const x = edges[e] + ((y - y0) * (edges[e + 2] - edges[e])) / (y1 - y0);
          crossings.push({ x, w: edges[e + 4] });
        }
      }
      crossings.sort((a, b) => a.x - b.x);
      let winding = 0;
      for (let c = 0; c < crossings.length - 1; c++) {
        winding += crossings[c].w;
        if (winding !== 0)
          addSpan(row, crossings[c].x - mask.x0, crossings[c + 1].x - mask.x0, 1 / SUBSAMPLES, mask.w);
      }
    }
    for (let i = 0; i < mask.w; i++) mask.data[j * mask.w + i] = Math.min(1, row[i]);
  }
  return mask;
}

/** Adds weight × (covered fraction of each pixel) for the horizontal span [a, b). */
function addSpan(row: Float32Array, a: number, b: number, weight: number, w: number): void {
  a = Math.max(0, a);
  b = Math.min(w, b);
  if (b <= a) return;
  const ia = Math.floor(a);
  const ib = Math.floor(b);
  if (ia === ib) {
    row[ia] += (b - a) * weight;
    return;
  }
  row[ia] += (ia + 1 - a) * weight;
  for (let i = ia + 1; i < ib; i++) row[i] += weight;
  if (ib < w) row[ib] += (b - ib) * weight;
}

/** Filled discs of radius r at the given centres. */
export function discMask(raster: Raster, centres: readonly number[], r: number, clip?: ClipRect): Mask {
  let xMin = Infinity;
  let yMin = Infinity;
  let xMax = -Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < centres.length; i += 2) {
    xMin = Math.min(xMin, centres[i]);
    xMax = Math.max(xMax, centres[i]);
    yMin = Math.min(yMin, centres[i + 1]);
    yMax = Math.max(yMax, centres[i + 1]);
  }
  const mask = raster.maskFor(xMin - r, yMin - r, xMax + r, yMax + r, clip);
  for (let c = 0; c < centres.length; c += 2) {
    const cx = centres[c];
    const cy = centres[c + 1];
    const i0 = Math.max(0, Math.floor(cx - r - 1) - mask.x0);
    const i1 = Math.min(mask.w - 1, Math.ceil(cx + r + 1) - mask.x0);
    const j0 = Math.max(0, Math.floor(cy - r - 1) - mask.y0);
    const j1 = Math.min(mask.h - 1, Math.ceil(cy + r + 1) - mask.y0);
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const d = Math.hypot(mask.x0 + i + 0.5 - cx, mask.y0 + j + 0.5 - cy);
        let v = r + 0.5 - d;
        if (v <= 0) continue;
        if (v > 1) v = 1;
        const k = j * mask.w + i;
        if (v > mask.data[k]) mask.data[k] = v;
      }
    }
  }
  return mask;
}

/** Splits polylines into dashes following a dash pattern (lengths in px, on/off alternating). */
export function dashPolylines(
  polylines: readonly (readonly number[])[],
  pattern: readonly number[],
): number[][] {
  const total = pattern.reduce((a, b) => a + b, 0);
  if (!(total > 0) || pattern.some((d) => !(d >= 0))) return polylines.map((p) => [...p]);
  const out: number[][] = [];
  for (const p of polylines) {
    let index = 0;
    let left = pattern[0];
    let on = true;
    let current: number[] = on ? [p[0], p[1]] : [];
    for (let i = 2; i < p.length; i += 2) {
      let ax = p[i - 2];
      let ay = p[i - 1];
      const bx = p[i];
      const by = p[i + 1];
      let seg = Math.hypot(bx - ax, by - ay);
      while (seg > left) {
        const f = left / seg;
        ax += (bx - ax) * f;
        ay += (by - ay) * f;
        seg -= left;
        if (on) {
          current.push(ax, ay);
          out.push(current);
          current = [];
        } else current = [ax, ay];
        on = !on;
        index = (index + 1) % pattern.length;
        left = pattern[index];
      }
      left -= seg;
      if (on) current.push(bx, by);
    }
    if (on && current.length >= 4) out.push(current);
  }
  return out;
}
