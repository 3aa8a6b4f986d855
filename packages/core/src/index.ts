export * from './errors.js';
export * from './net.js';
export * from './names.js';
export * from './model.js';
export * from './secrets.js';
export * from './spec/index.js';
export * from './stats/index.js';
export * from './random.js';
