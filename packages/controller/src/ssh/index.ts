export * from './session.js';
export * from './known-hosts.js';
export * from './host-check.js';
export * from './recovery.js';
