// Registry of network solutions, by kind.
import type { NetworkDriver } from '../driver.js';

export const NETWORK_DRIVERS: ReadonlyMap<string, NetworkDriver> = new Map<string, NetworkDriver>([]);
