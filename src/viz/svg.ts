/**
 * SVG backend: crisp vector output with real <text>. Each series is one <path> whose class names its role
 * (`series series-<i> <kind>`); plot-area contents are clipped to the panel with a <clipPath>.
 */
import type { Figure } from './figure.js';
import { layoutFigure } from './layout.js';
import {
  CAP_HEIGHT,
  EXPONENT_SCALE,
  type MarkersItem,
  type PathItem,
  type Rect,
  type Scene,
  type TextItem,
} from './scene.js';

const FONT_FAMILY = "'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif";

function num(v: number): string {
  // Two decimals are far below a pixel and keep files small; -0 is printed as 0.
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function pathData(item: PathItem): string {
  const parts: string[] = [];
  for (const sp of item.subpaths) {
    const p = sp.points;
    if (p.length < 2) continue;
    let d = `M${num(p[0])} ${num(p[1])}`;
    for (let i = 2; i < p.length; i += 2) d += `L${num(p[i])} ${num(p[i + 1])}`;
    if (sp.closed) d += 'Z';
    parts.push(d);
  }
  return parts.join('');
}

function markerData(item: MarkersItem): string {
  const r = item.size / 2;
  const parts: string[] = [];
  for (let i = 0; i < item.points.length; i += 2) {
    const x = item.points[i];
    const y = item.points[i + 1];
    switch (item.shape) {
      case 'circle':
        parts.push(
          `M${num(x - r)} ${num(y)}a${num(r)} ${num(r)} 0 1 0 ${num(2 * r)} 0a${num(r)} ${num(r)} 0 1 0 ${num(-2 * r)} 0Z`,
        );
        break;
      case 'square': {
        const h = r * 0.88;
        parts.push(`M${num(x - h)} ${num(y - h)}h${num(2 * h)}v${num(2 * h)}h${num(-2 * h)}Z`);
        break;
      }
      case 'triangle': {
        const h = r * 1.15;
        parts.push(
          `M${num(x)} ${num(y - h)}L${num(x + h * 0.866)} ${num(y + h * 0.5)}L${num(x - h * 0.866)} ${num(y + h * 0.5)}Z`,
        );
        break;
      }
      case 'diamond': {
        const h = r * 1.2;
        parts.push(
          `M${num(x)} ${num(y - h)}L${num(x + h)} ${num(y)}L${num(x)} ${num(y + h)}L${num(x - h)} ${num(y)}Z`,
        );
        break;
      }
    }
  }
  return parts.join('');
}

function textElement(t: TextItem): string {
  // Baselines are placed explicitly instead of with dominant-baseline, which renderers treat differently.
  const shift =
    t.baseline === 'top' ? CAP_HEIGHT * t.size : t.baseline === 'middle' ? (CAP_HEIGHT * t.size) / 2 : 0;
  const anchor = t.anchor === 'start' ? 'start' : t.anchor === 'middle' ? 'middle' : 'end';
  const transform = t.rotate === -90 ? ` transform="rotate(-90 ${num(t.x)} ${num(t.y)})"` : '';
  const weight = t.bold ? ' font-weight="bold"' : '';
  const body =
    t.exponent === undefined
      ? escapeXml(t.text)
      : `${escapeXml(t.text)}<tspan dy="${num(-0.45 * t.size)}" font-size="${num(EXPONENT_SCALE * t.size)}">${escapeXml(t.exponent)}</tspan>`;
  return `<text class="${t.role}" x="${num(t.x)}" y="${num(t.y + shift)}" font-size="${num(t.size)}" text-anchor="${anchor}" fill="${t.color}"${weight}${transform}>${body}</text>`;
}

/** Renders a laid-out scene to an SVG document. */
export function sceneToSvg(scene: Scene): string {
  const clips = new Map<string, string>();
  const clipId = (r: Rect) => {
    const key = `${num(r.x)},${num(r.y)},${num(r.w)},${num(r.h)}`;
    let id = clips.get(key);
    if (!id) {
      id = `clip${clips.size}`;
      clips.set(key, id);
    }
    return id;
  };
  const body: string[] = [];
  for (const item of scene.items) {
    switch (item.kind) {
      case 'rect': {
        const fill = item.fill
          ? `fill="${item.fill}"${item.fillOpacity !== undefined && item.fillOpacity < 1 ? ` fill-opacity="${num(item.fillOpacity)}"` : ''}`
          : 'fill="none"';
        const stroke = item.stroke
          ? ` stroke="${item.stroke}" stroke-width="${num(item.strokeWidth ?? 1)}"`
          : '';
        body.push(
          `<rect class="${item.role}" x="${num(item.x)}" y="${num(item.y)}" width="${num(item.w)}" height="${num(item.h)}" ${fill}${stroke}/>`,
        );
        break;
      }
      case 'path': {
        const d = pathData(item);
        const attrs: string[] = [`class="${item.role}"`, `d="${d}"`];
        attrs.push(item.fill ? `fill="${item.fill}"` : 'fill="none"');
        if (item.fill && item.fillOpacity !== undefined && item.fillOpacity < 1)
          attrs.push(`fill-opacity="${num(item.fillOpacity)}"`);
        if (item.stroke) {
          attrs.push(
            `stroke="${item.stroke}"`,
            `stroke-width="${num(item.strokeWidth ?? 1)}"`,
            'stroke-linejoin="round"',
            'stroke-linecap="round"',
          );
          if (item.strokeOpacity !== undefined && item.strokeOpacity < 1)
            attrs.push(`stroke-opacity="${num(item.strokeOpacity)}"`);
          if (item.dash && item.dash.length > 0)
            attrs.push(`stroke-dasharray="${item.dash.map(num).join(' ')}"`);
        }
        if (item.clip) attrs.push(`clip-path="url(#${clipId(item.clip)})"`);
        body.push(`<path ${attrs.join(' ')}/>`);
        break;
      }
      case 'markers': {
        const attrs = [`class="${item.role}"`, `d="${markerData(item)}"`, `fill="${item.fill}"`];
        if (item.opacity < 1) attrs.push(`fill-opacity="${num(item.opacity)}"`);
        if (item.edge) attrs.push(`stroke="${item.edge}"`, 'stroke-width="0.75"');
        if (item.clip) attrs.push(`clip-path="url(#${clipId(item.clip)})"`);
        body.push(`<path ${attrs.join(' ')}/>`);
        break;
      }
      case 'text':
        body.push(textElement(item));
        break;
    }
  }
  const defs = [...clips.entries()].map(([key, id]) => {
    const [x, y, w, h] = key.split(',');
    return `<clipPath id="${id}"><rect x="${x}" y="${y}" width="${w}" height="${h}"/></clipPath>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(scene.width)}" height="${num(scene.height)}" viewBox="0 0 ${num(scene.width)} ${num(scene.height)}" font-family="${FONT_FAMILY}">`,
    defs.length > 0 ? `<defs>${defs.join('')}</defs>` : '',
    `<rect class="background" width="100%" height="100%" fill="${scene.background}"/>`,
    ...body,
    '</svg>',
  ]
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n');
}

/** Renders a figure to an SVG document. */
export function renderSvg(figure: Figure): string {
  return sceneToSvg(layoutFigure(figure));
}
