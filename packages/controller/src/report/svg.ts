// Vega-Lite -> SVG in Node: compile to Vega, run a headless View (renderer 'none', no DOM,
// no canvas) and serialize its scenegraph. The report inlines the result, so it needs no
// script, no CDN and no network at view time. Data is always inline `values`; the loader is
// never asked for a URL.

import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

const CONFIG = {
  font: FONT,
  view: { stroke: '#ddd' },
  // Label limits well above Vega's defaults (180 px axes, 160 px legends): a label is cut
  // short with an ellipsis at its limit, and the report's labels (cell names) are long.
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee', labelLimit: 400 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400 },
  title: { fontSize: 14, anchor: 'start' as const, offset: 10 },
};

/** Renders one Vega-Lite spec to a standalone <svg> string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
