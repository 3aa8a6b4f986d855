// Statistics of run groups and the convergence decision.
export * from './describe.js';
export * from './intervals.js';
export * from './converge.js';
