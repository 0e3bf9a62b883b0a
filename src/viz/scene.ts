/**
 * The display list both backends draw: primitives in figure pixels (y down), produced by layout.ts. Each
 * primitive carries a `role` that the SVG writer emits as its class, so the structure of a figure can be
 * inspected (every series is exactly one `<path class="series …">`).
 */

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** A polyline or polygon; flat [x0, y0, x1, y1, …] coordinates. */
export interface Subpath {
  readonly points: readonly number[];
  readonly closed: boolean;
}

export interface PathItem {
  readonly kind: 'path';
  readonly role: string;
  readonly subpaths: readonly Subpath[];
  readonly stroke?: string;
  readonly strokeWidth?: number;
  readonly strokeOpacity?: number;
  /** Fill of the closed subpaths (non-zero rule). */
  readonly fill?: string;
  readonly fillOpacity?: number;
  readonly dash?: readonly number[];
  readonly clip?: Rect;
}

export interface MarkersItem {
  readonly kind: 'markers';
  readonly role: string;
  readonly shape: 'circle' | 'square' | 'triangle' | 'diamond';
  /** Diameter in px. */
  readonly size: number;
  readonly points: readonly number[];
  readonly fill: string;
  readonly opacity: number;
  /** A thin outline in this colour separates overlapping markers. */
  readonly edge?: string;
  readonly clip?: Rect;
}

export interface RectItem extends Rect {
  readonly kind: 'rect';
  readonly role: string;
  readonly fill?: string;
  readonly fillOpacity?: number;
  readonly stroke?: string;
  readonly strokeWidth?: number;
}

export interface TextItem {
  readonly kind: 'text';
  readonly role: string;
  readonly x: number;
  readonly y: number;
  readonly text: string;
  /** Superscript after the text (for 10^k tick labels). */
  readonly exponent?: string;
  /** Font size in px. */
  readonly size: number;
  readonly anchor: 'start' | 'middle' | 'end';
  /** Which part of the text sits at `y`: top of the capitals, their middle, or the baseline. */
  readonly baseline: 'top' | 'middle' | 'bottom';
  /** 0, or -90 for vertical text reading upwards. */
  readonly rotate: 0 | -90;
  readonly color: string;
  readonly bold?: boolean;
}

export type SceneItem = PathItem | MarkersItem | RectItem | TextItem;

export interface Scene {
  readonly width: number;
  readonly height: number;
  readonly background: string;
  readonly items: readonly SceneItem[];
}

/** Capital height and advance as fractions of the font size, shared by layout and both backends. */
export const CAP_HEIGHT = 0.7;
export const CHAR_ADVANCE = 0.6;
export const EXPONENT_SCALE = 0.7;

/** Width of a text in px as laid out (monospaced metrics; see font.ts). */
export function textWidth(text: string, size: number, exponent?: string): number {
  const main = [...text].length * CHAR_ADVANCE * size;
  return exponent === undefined
    ? main
    : main + [...exponent].length * CHAR_ADVANCE * size * EXPONENT_SCALE + 1;
}
