// The experiment spec: schema, parsing, matrix expansion.
export * from './schema.js';
export * from './parse.js';
export * from './workloads.js';
export * from './feasibility.js';
export * from './expand.js';
export * from './path-mtu.js';
export * from './recipes.js';
export * from './overrides.js';
export { explain, formatPath, closest, type Problem } from './explain.js';
export { parseJsonStrict, findDuplicateJsonKey, checkPrototypeKeys } from './strict-json.js';
