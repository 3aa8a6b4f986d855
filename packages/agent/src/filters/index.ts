// Registry of filter drivers, by kind.
import type { FilterDriver } from '../driver.js';

export const FILTER_DRIVERS: ReadonlyMap<string, FilterDriver> = new Map<string, FilterDriver>([]);
