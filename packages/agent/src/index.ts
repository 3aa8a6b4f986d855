// Public surface of the agent package: the daemon, the client the controller uses, the lab
// topology and the generated contract types. Everything else is internal.
export * from './runner/index.js';
export * from './lab/topology.js';
export type * from './driver.js';
export type * from './host-env.js';
