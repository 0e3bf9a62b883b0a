/**
 * Figures as SVG and PNG: a small figure model, two backends drawing the same layout, and plot helpers.
 */
export { VizError, type VizErrorCode } from './errors.js';
export type {
  Axes,
  AxisScale,
  BandSeries,
  Figure,
  LegendPosition,
  LineSeries,
  MarkerShape,
  Numbers,
  PolylinesSeries,
  QuiverSeries,
  ScatterSeries,
  Series,
} from './figure.js';
export { validateFigure } from './figure.js';
export { layoutFigure } from './layout.js';
export { PALETTE, seriesColor, THEME } from './palette.js';
export {
  combineFigures,
  type LineSpec,
  type LossCurveOptions,
  type LossHistory,
  linePlot,
  lossCurve,
  type MethodResult,
  type PhasePortraitOptions,
  type PlotOptions,
  phasePortrait,
  type TrajectorySpec,
  type VectorFieldOptions,
  vectorField,
  workPrecision,
} from './plots.js';
export { encodePng, type RasterOptions, renderPng, renderRaster, sceneToRaster } from './png.js';
export { Raster } from './raster.js';
export type { Scene, SceneItem } from './scene.js';
export { type Streamline, type StreamlineOptions, streamlines, type VectorFieldFn } from './streamlines.js';
export { escapeXml, renderSvg, sceneToSvg } from './svg.js';
export { linearTicks, logTicks, niceStep, type Tick } from './ticks.js';
