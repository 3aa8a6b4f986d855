export * from './errors.js';
export * from './runner.js';
export * from './tools.js';
export * from './tool-version.js';
