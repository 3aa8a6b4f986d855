// Registry of filter drivers, by kind.
import type { FilterDriver } from '../driver.js';
import { BpfFilter } from './bpf.js';
import { IptablesFilter } from './iptables.js';
import { L7HttpFilter } from './l7-http.js';
import { NftablesFilter } from './nftables.js';
import { OvsFilter } from './ovs.js';

export const FILTER_DRIVERS: ReadonlyMap<string, FilterDriver> = new Map<string, FilterDriver>([
  ['iptables', new IptablesFilter()],
  ['nftables', new NftablesFilter()],
  ['bpf', new BpfFilter()],
  ['ovs', new OvsFilter()],
  ['l7-http', new L7HttpFilter()],
]);
