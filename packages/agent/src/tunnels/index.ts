// Registry of tunnel drivers, by kind.
import type { TunnelDriver } from '../driver.js';

export const TUNNEL_DRIVERS: ReadonlyMap<string, TunnelDriver> = new Map<string, TunnelDriver>([]);
