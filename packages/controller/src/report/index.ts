// The HTML report: figures (Vega-Lite rendered to SVG in Node) and tables. Its test fixture is
// in the testing entry point (src/testing).
export { renderReport, escapeHtml } from './render.js';
export { buildCharts, type Chart } from './charts.js';
export { groupDecisions, runValues, MAIN_METRIC } from './groups.js';
export { renderSvg } from './svg.js';
