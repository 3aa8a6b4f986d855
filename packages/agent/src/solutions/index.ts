// Registry of network solutions, by kind.
import type { NetworkDriver } from '../driver.js';
import { bridgeDriver } from './bridge.js';
import { routingDriver } from './routing.js';

export const NETWORK_DRIVERS: ReadonlyMap<string, NetworkDriver> = new Map<string, NetworkDriver>([
  ['bridge', bridgeDriver],
  ['routing', routingDriver],
]);
