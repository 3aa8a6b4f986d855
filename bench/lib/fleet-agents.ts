// Child process of bench/fleet.ts: serves `count` simulated agents on loopback, each a FakeAgent
// (packages/controller/test/fake-agent.ts) behind its own gRPC server with mutual TLS, exactly as
// the real agent serves AgentService. Sources take `delayMs` per run (the measurement window);
// StreamMetrics yields one sample per requested interval on a fixed grid, counting the ticks a
// starved process missed in `dropped` (as an agent counts its buffer's losses). Prints {"addresses": [...]} on one
// line once every server listens, and stops them all on SIGTERM.
// Run: node --import=tsx --conditions=seconet-source bench/lib/fleet-agents.ts '{"count":N,"ca":..,"cert":..,"key":..,"delayMs":..}'

import { serveFakeAgent, type ServedFakeAgent } from '../../packages/controller/test/grpc-fake-agent.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as { count: number; ca: string; cert: string; key: string; delayMs: number };
const served: ServedFakeAgent[] = [];
for (let i = 0; i < opts.count; i++) {
  const s = await serveFakeAgent(`a${i}`, { tls: { ca: opts.ca, cert: opts.cert, key: opts.key }, underlay: `198.18.${100 + Math.floor(i / 250)}.${(i % 250) + 1}` });
  s.agent.behaviour.sourceDelayMs = opts.delayMs;
  s.agent.behaviour.metricsGrid = true;
  served.push(s);
}
process.stdout.write(JSON.stringify({ addresses: served.map((s) => s.address) }) + '\n');
process.on('SIGTERM', () => {
  void Promise.allSettled(served.map((s) => s.stop())).then(() => process.exit(0));
});
setInterval(() => undefined, 1 << 30);
