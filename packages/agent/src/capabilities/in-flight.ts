// What a capability probe is using right now: its throwaway namespace and run directory carry
// the agent's prefix and are in no journal, so GC (reconciler/orphans.ts) would take them for
// leftovers of a crash. A GC that ran during an OVS probe in a loaded guest removed the test
// switch's directory and stopped its daemons ("db.sock: database connection failed"), and the
// probe reported OVS unavailable. GC leaves what a running probe holds; the probe removes it.

const held = new Map<string, number>();

/** Runs `fn` while `names` (namespace names, absolute paths) count as in use by a probe. */
export async function holdingForProbe<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
  for (const n of names) held.set(n, (held.get(n) ?? 0) + 1);
  try {
    return await fn();
  } finally {
    for (const n of names) {
      const c = (held.get(n) ?? 1) - 1;
      if (c <= 0) held.delete(n);
      else held.set(n, c);
    }
  }
}

/** Whether a running probe holds this namespace name or absolute path. */
export function heldByProbe(name: string): boolean {
  return held.has(name);
}
