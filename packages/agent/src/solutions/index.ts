// Registry of network solutions, by kind.
import type { NetworkDriver } from '../driver.js';
import { bpfDriver } from './bpf.js';
import { bridgeDriver } from './bridge.js';
import { ovsDriver } from './ovs.js';
import { routingDriver } from './routing.js';

export const NETWORK_DRIVERS: ReadonlyMap<string, NetworkDriver> = new Map<string, NetworkDriver>([
  ['bridge', bridgeDriver],
  ['routing', routingDriver],
  ['bpf', bpfDriver],
  ['ovs', ovsDriver],
]);
