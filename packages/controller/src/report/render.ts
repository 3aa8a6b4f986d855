// renderReport: one self-contained HTML file for an experiment, finished or still running.
// Everything is inline (CSS, SVG figures rendered in Node), a Content-Security-Policy forbids
// any fetch, and nothing depends on the clock, so the same ReportData always gives the same
// bytes (a results bundle renders identically on another machine).

import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { pinningPlan } from '@seconet/core';
import { buildCharts, type Chart } from './charts.js';
import { cellLabel, groupDecisions } from './groups.js';
import { renderSvg } from './svg.js';
import type { CellVerdict, ReportData, RunGroupDecision } from './types.js';
import { timeSplitRows, type TimeSplit } from './time-split.js';
import { CORE_SATURATED_PCT, STEAL_NOISY_PCT, TESTBED_SHARE_PCT, VALIDITY_REASONS, type ValidityFlag } from '../monitor/validity.js';

const CSS = `
:root { --fg: #1d2330; --muted: #5b6474; --line: #dde1e8; --ok: #1a7f37; --bad: #c62828; --warn: #9a6700; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); margin: 0 auto; max-width: 1280px; padding: 24px 32px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; }
.meta { color: var(--muted); margin: 0; } nav { margin: 12px 0 0; } nav a { margin-right: 14px; color: #0b5cad; text-decoration: none; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: var(--bg2); border: 1px solid var(--line); }
.banner { border: 1px solid var(--warn); border-radius: 4px; padding: .5em .8em; }
.s-succeeded, .ok { color: var(--ok); } .s-failed, .bad { color: var(--bad); } .s-running, .s-queued, .warn { color: var(--warn); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; } .card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; background: var(--bg2); }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 12px; }
figure { margin: 0 0 28px; overflow-x: auto; } figcaption { color: var(--muted); font-size: 12px; max-width: 900px; margin-top: 4px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 4px 0 12px; } th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); position: sticky; top: 0; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 4px; padding: 12px; overflow-x: auto; font-size: 12px; }
.empty { color: var(--muted); font-style: italic; }
.validity { border-left: 3px solid var(--warn); background: #fff8e6; padding: 6px 10px; margin-top: 6px; font-size: 12.5px; max-width: 900px; } .validity ul { margin: 4px 0 0 18px; padding: 0; }
`;

export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

/** Numbers with sensible precision; bit rates in SI units. */
export function fmt(x: number, unit = ''): string {
  if (!Number.isFinite(x)) return x === Infinity ? '∞' : '–';
  if (unit === 'bit/s') {
    const units: Array<[number, string]> = [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']];
    for (const [f, u] of units) if (Math.abs(x) >= f) return `${Number((x / f).toPrecision(4))} ${u}`;
    return `${Number(x.toPrecision(4))} bit/s`;
  }
  const v = Math.abs(x) >= 1000 || Number.isInteger(x) ? String(Math.round(x * 100) / 100) : String(Number(x.toPrecision(4)));
  return unit ? `${v} ${unit}` : v;
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, numeric: ReadonlySet<number> = new Set()): string {
  const th = head.map((h) => `<th>${e(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function isolationCell(v: CellVerdict): string {
  if (v.isolation === null) return '<span title="filter none: nothing to check">–</span>';
  return v.isolation ? `<span class="ok" title="${e(v.isolationEvidence)}">held</span>` : `<span class="bad" title="${e(v.isolationEvidence)}">BROKE</span>`;
}

/** The wire check beside isolation: encrypted yes/no, the encapsulation seen, evidence on hover. */
function wireCell(v: CellVerdict): string {
  const w = v.wire;
  if (w === undefined) return '<span title="wire check not run (single host or no pre-flight)">–</span>';
  const enc = w.encapsulation ? ` <span class="meta">${e(w.encapsulation)}</span>` : '';
  if (w.encrypted === 'yes') return `<span class="ok" title="${e(w.evidence)}">encrypted: yes</span>${enc}`;
  if (w.encrypted === 'no') {
    const cls = w.claimsEncryption ? 'bad' : 'meta';
    return `<span class="${cls}" title="${e(w.evidence)}">encrypted: no${w.claimsEncryption ? ' (LEAKED marker)' : ''}</span>${enc}`;
  }
  return `<span class="warn" title="${e(w.evidence)}">encrypted: not shown</span>${enc}`;
}

const COMPONENTS = ['containers', 'network', 'tunnel', 'filter'];

function cellsSection(data: ReportData, decisions: readonly RunGroupDecision[]): string {
  if (data.cells.length === 0) return '<p class="empty">No cell planned yet.</p>';
  const runsByCell = new Map<string, { done: number; failed: number; total: number }>();
  for (const r of data.runs) {
    const c = runsByCell.get(r.cell) ?? { done: 0, failed: 0, total: 0 };
    c.total++;
    if (r.state === 'succeeded') c.done++;
    if (r.state === 'failed') c.failed++;
    runsByCell.set(r.cell, c);
  }
  const conv = new Map<string, { yes: number; all: number }>();
  for (const d of decisions) {
    const g = conv.get(d.cell) ?? { yes: 0, all: 0 };
    g.all++;
    if (d.converged) g.yes++;
    conv.set(d.cell, g);
  }
  const rows = [...data.cells].sort((a, b) => a.cell.index - b.cell.index).map((v) => {
    const c = v.cell;
    const runs = runsByCell.get(c.id) ?? { done: 0, failed: 0, total: 0 };
    const g = conv.get(c.id);
    const state = v.state === 'measured' ? `<span class="ok">measured</span>` : v.state === 'pending' ? '<span class="warn">pending</span>' : `<span class="bad">${e(v.state)}</span>${v.error ? `: ${e(v.error)}` : ''}`;
    return [
      String(c.index + 1) + (c.reference === undefined ? '' : ` <span class="badge" title="drift check of the reference cell">ref ${c.reference + 1}</span>`),
      `${c.recipe ? `${e(c.network)} <span class="badge" title="CNI recipe (docs/recipes.md)">${e(c.recipe)}</span>` : e(c.network)}${networkVariantNote(data, c.network, c.hosts)}`,
      `${e(c.tunnel)}${v.tunnelVariant && c.tunnel !== 'none' ? ` <span class="meta">(${e(v.tunnelVariant)})</span>` : ''}${c.pathMtu === undefined ? '' : ` <span class="meta" title="path MTU">MTU ${c.pathMtu}</span>`}`,
      `${e(c.filter)}${v.filterVariant && c.filter !== 'none' ? ` <span class="meta">(${e(v.filterVariant)})</span>` : ''}`,
      String(c.containers),
      c.ruleMatch === 'port' ? `${c.rules} <span class="meta" title="rules differ by destination port range">ports</span>` : String(c.rules),
      state,
      isolationCell(v),
      wireCell(v),
      ...COMPONENTS.map((k) => (v.setupSeconds[k] === undefined ? '–' : fmt(v.setupSeconds[k]!))),
      `${runs.done}/${runs.total}${runs.failed ? ` <span class="bad">(${runs.failed} failed)</span>` : ''}`,
      g === undefined ? '–' : `<span class="${g.yes === g.all ? 'ok' : 'warn'}">${g.yes}/${g.all}</span>`,
      e(c.hosts.join(', ')),
    ];
  });
  return table(['#', 'network', 'tunnel', 'filter', 'containers', 'rules', 'state', 'isolation', 'on the wire', ...COMPONENTS.map((k) => `${k} s`), 'runs', 'converged', 'hosts'], rows, new Set([0, 4, 5, 9, 10, 11, 12, 13, 14]));
}

/** How often run groups converged, split by pinning (hosts with the cores for it) and by validity flags. */
function convergenceSplit(data: ReportData, decisions: readonly RunGroupDecision[]): string {
  const cores = new Map(data.hosts.map((h) => [h.name, Number(/\((\d+) cores?\)/.exec(h.cpu)?.[1] ?? NaN)]));
  const cells = new Map(data.cells.map((v) => [v.cell.id, v.cell]));
  const validity = runValidity(data);
  const flaggedGroups = new Set<string>();
  for (const r of data.runs) if ((validity.get(r.id) ?? '') !== '') flaggedGroups.add(`${r.cell}\u0000${r.workload}`);
  const buckets = new Map<string, { yes: number; all: number; note: string }>();
  const add = (k: string, note: string, ok: boolean): void => {
    const b = buckets.get(k) ?? { yes: 0, all: 0, note };
    b.all++;
    if (ok) b.yes++;
    buckets.set(k, b);
  };
  for (const d of decisions) {
    const hosts = cells.get(d.cell)?.hosts ?? [];
    const n = hosts.map((h) => cores.get(h) ?? NaN);
    const plan = n.length > 0 && n.every((c) => Number.isFinite(c)) ? pinningPlan(Math.min(...n)) : undefined;
    if (plan === undefined) add('pinning unknown', 'the hosts did not report their cores', d.converged);
    else if (plan.sink === undefined) add('not pinned', plan.note, d.converged);
    else add('source and sink pinned apart', plan.note, d.converged);
    if (flaggedGroups.has(`${d.cell}\u0000${d.workload}`)) add('with flagged runs', 'at least one run flagged by the validity guards', d.converged);
    else add('without flagged runs', 'no run flagged', d.converged);
  }
  const rows = [...buckets].map(([k, b]) => [e(k), `${b.yes}/${b.all}`, b.all > 0 ? `${Math.round((100 * b.yes) / b.all)} %` : '–', e(b.note)]);
  return `<h3>How often run groups converge</h3>${table(['groups', 'converged', 'share', 'note'], rows, new Set([1, 2]))}`;
}

function groupsSection(data: ReportData, decisions: readonly RunGroupDecision[]): string {
  if (decisions.length === 0) return '<p class="empty">No run finished yet.</p>';
  const cells = new Map(data.cells.map((v) => [v.cell.id, v.cell]));
  const units = new Map<string, string>();
  for (const r of data.rows) if (!units.has(r.metric)) units.set(r.metric, r.unit);
  const order = (id: string): number => cells.get(id)?.index ?? Number.MAX_SAFE_INTEGER;
  // TCP payloads above the path's MSS ran with clamped segments (docs/spec.md, "Payload and path MTU").
  const clamped = new Map<string, number>();
  for (const r of data.rows) if (r.metric === 'segment_size' && r.value < r.payload) clamped.set(`${r.cell}\u0000${r.workload}`, r.value);
  const rows = [...decisions]
    .sort((a, b) => order(a.cell) - order(b.cell) || a.workload.localeCompare(b.workload))
    .map((d) => {
      const c = cells.get(d.cell);
      const unit = units.get(d.metric) ?? '';
      return [
        e(c ? cellLabel(c) : d.cell),
        e(d.workload) + (clamped.has(`${d.cell}\u0000${d.workload}`) ? ` <span class="warn">(segments clamped to ${clamped.get(`${d.cell}\u0000${d.workload}`)} B by the path MTU)</span>` : ''),
        e(d.metric),
        String(d.repetitions),
        e(fmt(d.center, unit)),
        e(`${fmt(d.ciLow, unit)} … ${fmt(d.ciHigh, unit)}`),
        Number.isFinite(d.relHalfWidth) ? `±${(d.relHalfWidth * 100).toFixed(1)} %` : '–',
        d.converged ? '<span class="ok">converged</span>' : '<span class="warn">not converged</span>',
      ];
    });
  return convergenceSplit(data, decisions) + table(['cell', 'workload', 'metric', 'n', 'center', '95 % interval', 'half-width', 'verdict'], rows, new Set([3, 4, 5, 6]));
}

function skippedSection(data: ReportData): string {
  if (data.skipped.length === 0) return '<p class="empty">Every cell of the matrix was runnable.</p>';
  const rows = data.skipped.map((s) => [
    e(`${s.cell.recipe ? `${s.cell.recipe}: ` : ''}${s.cell.network}/${s.cell.tunnel}/${s.cell.filter}`),
    String(s.cell.containers),
    String(s.cell.rules),
    s.workload === undefined ? (s.cell.reference === undefined ? 'whole cell' : 'reference cell') : e(s.workload),
    e(s.reason),
  ]);
  return table(['setup', 'containers', 'rules', 'what', 'reason'], rows, new Set([1, 2]));
}

function failedSection(data: ReportData): string {
  const failed = data.runs.filter((r) => r.state === 'failed');
  if (failed.length === 0) return '<p class="empty">No run failed.</p>';
  const cells = new Map(data.cells.map((v) => [v.cell.id, v.cell]));
  return table(
    ['cell', 'workload', 'repetition', 'attempts', 'error'],
    failed.map((r) => [e(cells.has(r.cell) ? cellLabel(cells.get(r.cell)!) : r.cell), e(r.workload), String(r.repetition), String(r.attempts), e(r.error ?? '')]),
    new Set([2, 3]),
  );
}

function validitySection(data: ReportData): string {
  const bounds = `<p class="meta">A run is flagged <b>cpu-bound</b> when a source or sink host's busiest core averaged at least ${CORE_SATURATED_PCT} % busy (softirq and steal included) while it measured, <b>noisy</b> when some core showed at least ${STEAL_NOISY_PCT} % steal, <b>testbed-heavy</b> when the agent (sampler included) used more than ${TESTBED_SHARE_PCT} % of a host's CPU.</p>`;
  const validity = runValidity(data);
  const cells = new Map(data.cells.map((v) => [v.cell.id, v.cell]));
  const host = new Map<string, string[]>();
  for (const r of data.rows) {
    if (!r.pair.startsWith('host/') || !['host_core_busiest', 'host_core_busiest_siq', 'host_steal_max', 'testbed_cpu_share'].includes(r.metric)) continue;
    const label = { host_core_busiest: 'busiest core', host_core_busiest_siq: 'its softirq', host_steal_max: 'steal', testbed_cpu_share: 'testbed' }[r.metric];
    host.set(r.run, [...(host.get(r.run) ?? []), `${r.pair.slice(5)} ${label} ${r.value.toFixed(1)} %`]);
  }
  const flagged = data.runs.filter((r) => (validity.get(r.id) ?? '') !== '');
  if (flagged.length === 0) return `${bounds}<p class="empty">No run was flagged${host.size === 0 ? ' (no per-core host samples recorded)' : ''}.</p>`;
  return bounds + table(
    ['cell', 'workload', 'repetition', 'validity', 'host figures while measuring'],
    flagged.map((r) => [e(cells.has(r.cell) ? cellLabel(cells.get(r.cell)!) : r.cell), e(r.workload), String(r.repetition), `<span class="warn">${e(validity.get(r.id)!)}</span>`, e((host.get(r.id) ?? []).join('; '))]),
    new Set([2]),
  );
}

/** The datapath of a cell's network solution on its hosts (ovs: kernel or userspace), as the hosts reported it. */
export function networkVariantNote(data: ReportData, network: string, hosts: readonly string[]): string {
  const vs = [...new Set(data.hosts.filter((h) => hosts.includes(h.name)).map((h) => h.networkVariants?.[network] ?? '').filter((v) => v !== ''))];
  return vs.length === 0 ? '' : ` <span class="meta" title="datapath">(${e(vs.join('+'))})</span>`;
}

/** Hosts under software emulation (QEMU TCG): their figures prove function, not speed. */
export function emulationBanner(data: ReportData): string {
  const tcg = data.hosts.filter((h) => h.hostKind === 'vm-tcg').map((h) => h.name);
  if (tcg.length === 0) return '';
  return `<p class="banner warn" role="note"><b>Emulated CPUs (QEMU TCG) on ${e(tcg.join(', '))}:</b> every figure measured on ${tcg.length === 1 ? 'this host' : 'these hosts'} is a functional result; it is not comparable with real hardware or with KVM guests.</p>\n`;
}

function provenanceSection(data: ReportData): string {
  if (data.hosts.length === 0) return '<p class="empty">No host has reported yet.</p>';
  const rows = data.hosts.map((h) => [
    e(h.name),
    h.hostKind === 'vm-tcg' ? `<span class="warn">${e(h.hostKind)}</span>` : e(h.hostKind ?? 'remote'),
    e(h.kernel),
    e(h.agentVersion),
    e(h.cpu),
    h.memoryBytes > 0 ? `${(h.memoryBytes / 2 ** 30).toFixed(1)} GiB` : '–',
    h.tools.map((t) => `${e(t.tool)} ${e(t.version)}`).join('<br>'),
  ]);
  return table(['host', 'kind', 'kernel', 'agent', 'CPU', 'memory', 'tools'], rows);
}

function summaryCards(data: ReportData, decisions: readonly RunGroupDecision[]): string {
  const runs = data.runs;
  const done = runs.filter((r) => r.state === 'succeeded').length;
  const failed = runs.filter((r) => r.state === 'failed').length;
  const conv = decisions.filter((d) => d.converged).length;
  const isoChecked = data.cells.filter((v) => v.isolation !== null);
  const broke = isoChecked.filter((v) => v.isolation === false).length;
  const wireClaims = data.cells.filter((v) => v.wire?.claimsEncryption === true);
  const card = (v: string, label: string, cls = ''): string => `<div class="card"><b class="${cls}">${v}</b><span>${e(label)}</span></div>`;
  return `<div class="cards">
${card(`${done}/${runs.length}`, 'runs succeeded')}
${card(String(failed), 'runs failed', failed ? 'bad' : '')}
${card(`${data.cells.filter((v) => v.state === 'measured').length}/${data.cells.length}`, 'cells measured')}
${card(String(data.skipped.length), 'skipped before the first run', data.skipped.length ? 'warn' : '')}
${card(`${conv}/${decisions.length}`, 'run groups converged', conv < decisions.length ? 'warn' : 'ok')}
${card(isoChecked.length === 0 ? '–' : `${isoChecked.length - broke}/${isoChecked.length}`, 'cells with isolation held', broke ? 'bad' : 'ok')}
${card(wireClaims.length === 0 ? '–' : `${wireClaims.filter((v) => v.wire?.encrypted === 'yes').length}/${wireClaims.length}`, 'encrypting cells shown encrypted on the wire', wireClaims.some((v) => v.wire?.markerInClear) ? 'bad' : wireClaims.every((v) => v.wire?.encrypted === 'yes') ? 'ok' : 'warn')}
</div>`;
}

/** Validity flags per run ("" when clean), from the runs' result rows. */
function runValidity(data: ReportData): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of data.rows) if (!m.has(r.run) || (r.validity ?? '') !== '') m.set(r.run, r.validity ?? '');
  return m;
}

/** The warning under a figure some of whose runs are flagged, saying which flags and why. */
function validityNote(c: Chart, validity: ReadonlyMap<string, string>): string {
  if (c.runs === undefined || c.runs.size === 0) return '';
  const counts = new Map<string, number>();
  let flagged = 0;
  for (const run of c.runs) {
    const v = validity.get(run) ?? '';
    if (v === '') continue;
    flagged++;
    for (const f of v.split(';')) counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  if (flagged === 0) return '';
  const why = [...counts].map(([f, n]) => `<li><b>${e(f)}</b> (${n} run${n === 1 ? '' : 's'}): ${e(VALIDITY_REASONS[f as ValidityFlag] ?? f)}</li>`).join('');
  return `<div class="validity warn" data-flagged="${flagged}"><b>Validity: ${flagged} of ${c.runs.size} runs in this figure are flagged.</b><ul>${why}</ul></div>`;
}

async function figure(c: Chart, validity: ReadonlyMap<string, string>): Promise<string> {
  const svg = await renderSvg(c.spec);
  const note = validityNote(c, validity);
  return `<figure id="fig-${e(c.id)}" data-chart="${e(c.id)}"${note ? ' data-validity="flagged"' : ''}><h3>${e(c.title)}${note ? ' <span class="badge warn" title="some runs are flagged: see below the figure">validity</span>' : ''}</h3>\n${svg}\n<figcaption>${e(c.caption)}</figcaption>${note}</figure>`;
}

function specText(spec: unknown): string {
  if (spec === undefined || spec === null) return '';
  try {
    return stringify(spec, { lineWidth: 0 });
  } catch {
    return JSON.stringify(spec, null, 2);
  }
}

/** Files saved next to the raw results (a soak report): a link to each, with what it says. */
function attachmentsSection(list: NonNullable<ReportData['attachments']>): string {
  const items = list.map((a) => `<li><a href="${e(pathToFileURL(a.path).href)}">${e(a.name)}</a> <code>${e(a.path)}</code>${a.summary ? `<br>${e(a.summary)}` : ''}</li>`);
  return `<p>Saved next to the experiment's raw results on the controller's machine.</p>\n<ul>${items.join('')}</ul>`;
}

function timeSplitSection(t: TimeSplit): string {
  const rows = timeSplitRows(t).map(([part, sec, pct, what]) => `<tr><td>${e(part)}</td><td class="num">${sec.toFixed(1)} s</td><td class="num">${pct.toFixed(1)} %</td><td>${e(what)}</td></tr>`);
  return `<p>Wall time ${t.wallS.toFixed(1)} s${t.final ? '' : ' so far (the experiment is running)'}, ${t.windows} measurement windows; from the stored start and end of every phase.</p>
<table><thead><tr><th>part</th><th>time</th><th>share</th><th>what</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The self-contained HTML report. Deterministic for the same data. */
export async function renderReport(data: ReportData): Promise<string> {
  const x = data.experiment;
  const charts = buildCharts(data);
  const decisions = groupDecisions(data);
  const figures: string[] = [];
  const validity = runValidity(data);
  for (const c of charts) figures.push(await figure(c, validity));
  const times = [`created ${x.createdAt}`, x.startedAt ? `started ${x.startedAt}` : '', x.finishedAt ? `finished ${x.finishedAt}` : ''].filter(Boolean).join(' · ');
  const sections: Array<[string, string, string]> = [
    ['summary', 'Summary', summaryCards(data, decisions)],
    ['figures', 'Figures', figures.length > 0 ? figures.join('\n') : '<p class="empty">No figure yet: the data measured so far do not cover any plot.</p>'],
    ['cells', 'Cells', cellsSection(data, decisions)],
    ['groups', 'Run groups and convergence', groupsSection(data, decisions)],
    ['skipped', 'Skipped before the first run', skippedSection(data)],
    ['failed', 'Failed runs', failedSection(data)],
    ['validity', 'Validity of the runs', validitySection(data)],
    ...(data.timeSplit !== undefined ? [['time', 'Where the time went', timeSplitSection(data.timeSplit)] as [string, string, string]] : []),
    ['provenance', 'Provenance', provenanceSection(data)],
    ['spec', 'Experiment spec', `<pre>${e(specText(x.spec))}</pre>`],
    ...(data.attachments !== undefined && data.attachments.length > 0 ? [['attachments', 'Attachments', attachmentsSection(data.attachments)] as [string, string, string]] : []),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="seconet">
<title>seconet report: ${e(x.name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${e(x.name)}</h1>
<p class="meta">experiment <code>${e(x.id)}</code> · <span class="badge s-${e(x.state)}">${e(x.state)}</span> · ${e(times)}</p>
${emulationBanner(data)}<nav>${sections.map(([id, title]) => `<a href="#${id}">${e(title)}</a>`).join('')}</nav>
</header>
<main>
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${e(title)}</h2>\n${body}\n</section>`).join('\n')}
</main>
</body>
</html>
`;
}
