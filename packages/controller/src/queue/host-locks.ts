// Host locks in Redis, so two experiments never measure on the same host at the same time
// while experiments on disjoint hosts run side by side. Redis rather than an in-process lock
// manager: the lock must hold across controller processes (a second controller, or the old
// job of a controller that was SIGKILLed while BullMQ re-delivers it) and must free itself
// when its holder dies. Each lease takes all of an experiment's hosts at once (one Lua
// script, all or nothing, so two experiments can never deadlock on each other's halves),
// carries a token unique to the delivery, expires after `ttlMs` unless refreshed, and is
// refreshed by its holder every ttl/3. Release and refresh only touch keys holding the token.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const ACQUIRE = `
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v and v ~= ARGV[1] then return 0 end
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return 1`;

const REFRESH = `
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    n = n + 1
  end
end
return n`;

const RELEASE = `
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n`;

export class LockWaitAbandoned extends Error {
  constructor() {
    super('stopped waiting for host locks');
    this.name = 'LockWaitAbandoned';
  }
}

export interface HostLease {
  readonly token: string;
  readonly hosts: readonly string[];
  /** True while every key still carried the token at the last refresh. */
  readonly held: boolean;
  release(): Promise<void>;
}

export interface AcquireOptions {
  readonly ttlMs?: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Checked while waiting: when it returns true the wait ends with LockWaitAbandoned. */
  readonly abandon?: () => boolean;
  /** Called once when the hosts are busy and the caller starts waiting. */
  readonly onWait?: (holders: Record<string, string>) => void;
  /**
   * Called once when a refresh finds a key no longer carrying the token: the lease expired (Redis
   * was paused or unreachable longer than the TTL) and another holder may have the hosts now.
   */
  readonly onLost?: () => void;
}

export class HostLocks {
  constructor(private readonly redis: Redis, private readonly prefix = 'seconet') {}

  key(host: string): string {
    return `${this.prefix}:lock:host:${host}`;
  }

  /** Current holders (token per host) of the given hosts' locks. */
  async holders(hosts: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (hosts.length === 0) return out;
    const vals = await this.redis.mget(...hosts.map((h) => this.key(h)));
    hosts.forEach((h, i) => {
      const v = vals[i];
      if (v) out[h] = v;
    });
    return out;
  }

  /** Waits until every host is free, then holds them all; refreshes itself until released. */
  async acquire(hosts: readonly string[], owner: string, opts: AcquireOptions = {}): Promise<HostLease> {
    const ttl = opts.ttlMs ?? 10_000;
    const token = `${owner}:${randomUUID()}`;
    const keys = [...new Set(hosts)].sort().map((h) => this.key(h));
    let waited = false;
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('lock wait aborted');
      const ok = keys.length === 0 ? 1 : ((await this.redis.eval(ACQUIRE, keys.length, ...keys, token, String(ttl))) as number);
      if (ok === 1) break;
      if (opts.abandon?.()) throw new LockWaitAbandoned();
      if (!waited) {
        waited = true;
        opts.onWait?.(await this.holders(hosts));
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, opts.pollMs ?? 250);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
    let held = true;
    let released = false;
    const timer = setInterval(() => {
      if (released || keys.length === 0) return;
      this.redis.eval(REFRESH, keys.length, ...keys, token, String(ttl)).then((n) => {
        const was = held;
        held = n === keys.length;
        if (was && !held && !released) opts.onLost?.();
      }, () => {
        held = false;
      });
    }, Math.max(100, Math.floor(ttl / 3)));
    timer.unref();
    return {
      token,
      hosts: [...hosts],
      get held() {
        return held;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        if (keys.length > 0) await this.redis.eval(RELEASE, keys.length, ...keys, token).catch(() => undefined);
      },
    };
  }
}
