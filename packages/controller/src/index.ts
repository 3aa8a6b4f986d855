export type * from './service.js';
export type * from './report/types.js';
