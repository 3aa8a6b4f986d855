// Every spec under examples/ is accepted by the controller on the two-host lab and plans runs:
// the REST API's dry run (plan only, nothing stored or queued) with the lab's real agents and
// their capabilities. A cell an example names but this machine cannot build is skipped with
// the host's own reason (a kernel that lacks IP-in-IP), and a full paper matrix skips the
// combinations that cannot isolate pairs (iptables under a BPF or OVS datapath) with the fix;
// nothing else is skipped.
// The runs themselves are covered per block and workload by the e2e-* tests; this one keeps the
// examples from drifting away from the spec and the recipes.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO, startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';

interface PlanBody { cells: unknown[]; runs: unknown[]; skipped: Array<{ reason: string }> }
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('every example plans runs on the lab through the REST API', { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const files = readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
  t.ok(files.length >= 10, `${files.length} examples`);
  const lab = await startE2eLab(t, 2);
  const { request: api } = await startE2eApi(t, lab);
  let agents = (await api<Array<{ capabilities: unknown[] }>>('/v1/agents')).body;
  for (let i = 0; i < 60 && (agents.length < 2 || agents.some((a) => a.capabilities.length === 0)); i++) {
    await sleep(500);
    agents = (await api<typeof agents>('/v1/agents')).body;
  }
  for (const f of files) {
    const spec = parse(readFileSync(join(REPO, 'examples', f), 'utf8')) as unknown;
    const dry = await api<PlanBody>('/v1/experiments?dryRun=true', spec);
    t.equal(dry.status, 200, `${f}: accepted${dry.status === 200 ? '' : `: ${dry.text.slice(0, 400)}`}`);
    if (dry.status !== 200) continue;
    t.ok(dry.body.runs.length > 0, `${f}: ${dry.body.cells.length} cells, ${dry.body.runs.length} runs, ${dry.body.skipped.length} skipped`);
    const reasons = new Set(dry.body.skipped.map((s) => s.reason));
    for (const r of reasons) t.match(r, /lacks .* kernel|would not isolate pairs|has no OVS bridge: use/, `${f}: skipped for the host or an impossible combination: ${r}`);
  }
  const runs = await api<unknown[]>('/v1/experiments');
  t.same(runs.body, [], 'a dry run stores nothing');
});
