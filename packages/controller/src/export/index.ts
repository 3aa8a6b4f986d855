// Result exports: long-format CSV/JSON and the portable results bundle.
export * from './csv.js';
export * from './bundle.js';
