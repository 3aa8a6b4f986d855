export type * from './service.js';
export type * from './report/types.js';
export { buildApi, parseYamlSpec, type ApiOptions } from './api/build-api.js';
export { readTokenFile, TokenSet } from './api/auth.js';
export { rowsToCsv, RESULT_COLUMNS } from './api/results-csv.js';
