// Child process of bench/fleet.ts: a REST client of the controller. GETs `paths` one after the
// other every `intervalMs` and keeps each latency; with `sse`, also reads the live host metrics
// stream of every agent (GET /v1/hosts/metrics, 1 Hz) and counts its samples and the largest
// `dropped` it reports. On SIGTERM prints {"latenciesMs": [...], "byPath": {path: [...]},
// "errors": n, "samples": n, "dropped": n, "sseSeconds": s} and exits.
// Run: node bench/lib/rest-probe.ts '{"base":"http://127.0.0.1:P","token":"..","paths":[..],"intervalMs":100,"sse":true}'

const opts = JSON.parse(process.argv[2] ?? '{}') as { base: string; token: string; paths: string[]; intervalMs: number; sse: boolean };
const headers = { authorization: `Bearer ${opts.token}` };
const latenciesMs: number[] = [];
/** The same latencies per requested path, so a slow endpoint shows as itself. */
const byPath: Record<string, number[]> = {};
let errors = 0;
let samples = 0;
let dropped = 0;
let sseStart = 0;
/** Per host: first and last sample time, samples received, `dropped` at the first and the last. */
const hosts = new Map<string, { first: number; last: number; n: number; d0: number; d1: number }>();
/**
 * Samples missing between each host's first and last one (the agents sample on a 1 s grid)
 * that no `dropped` count covers: the samples lost uncounted. Counted: the growth of each
 * host's `dropped` (agent and controller drops) over the same span.
 */
function accounting(): { hosts: number; gridSamples: number; received: number; countedDropped: number; uncounted: number } {
  let gridSamples = 0;
  let received = 0;
  let countedDropped = 0;
  let uncounted = 0;
  for (const h of hosts.values()) {
    const grid = Math.round(h.last - h.first) + 1;
    gridSamples += grid;
    received += h.n;
    countedDropped += h.d1 - h.d0;
    uncounted += Math.max(0, grid - h.n - (h.d1 - h.d0));
  }
  return { hosts: hosts.size, gridSamples, received, countedDropped, uncounted };
}
let stopping = false;

async function poll(): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const t0 = performance.now();
    const path = opts.paths[i % opts.paths.length]!;
    try {
      const r = await fetch(opts.base + path, { headers });
      await r.arrayBuffer();
      if (r.status !== 200) errors++;
      const ms = performance.now() - t0;
      latenciesMs.push(ms);
      (byPath[path] ??= []).push(ms);
    } catch {
      errors++;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}

async function sse(): Promise<void> {
  const r = await fetch(`${opts.base}/v1/hosts/metrics?intervalMs=1000`, { headers });
  if (!r.ok || !r.body) throw new Error(`GET /v1/hosts/metrics: ${r.status}`);
  sseStart = performance.now();
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  while (!stopping) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    // One split per chunk (a chunk carries the samples of many hosts).
    const events = buf.split('\n\n');
    buf = events.pop()!;
    for (const ev of events) {
      const data = /^data: (.*)$/m.exec(ev);
      if (!ev.startsWith('event: sample') || !data) continue;
      samples++;
      const s = JSON.parse(data[1]!) as { host: string; timestamp: number; dropped?: number; error?: string };
      dropped = Math.max(dropped, s.dropped ?? 0);
      if (s.error !== undefined) continue;
      const h = hosts.get(s.host);
      if (h === undefined) hosts.set(s.host, { first: s.timestamp, last: s.timestamp, n: 1, d0: s.dropped ?? 0, d1: s.dropped ?? 0 });
      else {
        h.last = Math.max(h.last, s.timestamp);
        h.n++;
        h.d1 = Math.max(h.d1, s.dropped ?? 0);
      }
    }
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  process.stdout.write(JSON.stringify({ latenciesMs, byPath, errors, samples, dropped, sseSeconds: sseStart === 0 ? 0 : (performance.now() - sseStart) / 1000, accounting: accounting() }) + '\n');
  process.exit(0);
});
if (opts.sse) void sse().catch((e: unknown) => process.stderr.write(`sse: ${String(e)}\n`));
if (opts.paths.length > 0) void poll();
