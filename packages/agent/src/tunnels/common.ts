// What every tunnel driver shares, by concern: spec validation and variant choice (spec.ts),
// `ip` in the host namespace and link/route drift (links.ts), change detection (applied.ts),
// run directory, private files and daemons (daemons.ts), and probes (probes.ts). Drivers stay
// a page of kind-specific commands on top of these.

export * from './spec.js';
export * from './links.js';
export * from './applied.js';
export * from './daemons.js';
export * from './probes.js';
