// The HTML report: figures (Vega-Lite rendered to SVG in Node), tables and a test fixture.
export { renderReport, escapeHtml } from './render.js';
export { buildCharts, type Chart } from './charts.js';
export { groupDecisions, runValues, MAIN_METRIC } from './groups.js';
export { renderSvg } from './svg.js';
export { reportFixture, FIXTURE_SPEC, type FixtureOptions } from './fixture.js';
