// One experiment, live: its SSE stream (with Last-Event-ID on reconnect) drives the page: each
// event is listed as it arrives and the experiment, its runs and its cells are re-read from the
// API, so what is shown is always what the controller stored. Shows the current cell, workload
// and repetition, a progress bar, each run with state, duration and the reason when it failed,
// the cells with setup seconds per building block and the isolation verdict, live host charts,
// and the report, results and bundle (fetched with the token, handed over as blobs).

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { download, getJson, request, stream } from '../api.js';
import type { HostCharts as HostChartsT } from '../charts.js';
import { CancelButton, ErrorNote, ProgressBar, ResumeButton, State, usePoll } from '../components.js';
import { between, seconds, when } from '../format.js';
import type { CellStatus, ExperimentT, RunStatus } from '../types.js';
import { eta } from './experiments.js';

const FINAL = ['succeeded', 'failed', 'cancelled'];
const BLOCKS = ['containers', 'network', 'tunnel', 'filter'];

interface LiveEvent {
  readonly id: string;
  readonly type: string;
  readonly text: string;
}

function describe(type: string, d: Record<string, unknown>, runs: ReadonlyMap<string, RunStatus>): string {
  if (type === 'run') {
    const r = runs.get(String(d['run']));
    const workload = d['workload'] ?? r?.workload ?? d['run'];
    const rep = d['repetition'] ?? r?.repetition;
    return `run ${String(workload)}${rep === undefined ? '' : ` #${String(rep)}`}: ${String(d['state'])}${d['error'] ? ` — ${String(d['error'])}` : ''}`;
  }
  if (type === 'cell') return `cell ${String(d['cell'])}: ${String(d['state'])}${d['error'] ? ` — ${String(d['error'])}` : ''}`;
  if (type === 'state') return `experiment ${String(d['state'])}${d['error'] ? ` — ${String(d['error'])}` : ''}`;
  return String(d['message'] ?? JSON.stringify(d));
}

function isolation(c: CellStatus): string {
  if (c.isolation === true) return '✓ held';
  if (c.isolation === false) return '✗ broken: a denied pair connects';
  return c.filter === 'none' ? 'not checked (no filter)' : 'not checked yet';
}

export function ExperimentPage(props: { id: string }) {
  const base = `/v1/experiments/${encodeURIComponent(props.id)}`;
  const exp = usePoll((s) => getJson<ExperimentT>(base, s), 5000, [props.id]);
  const runs = usePoll((s) => getJson<RunStatus[]>(`${base}/runs`, s), 0, [props.id]);
  const cells = usePoll((s) => getJson<CellStatus[]>(`${base}/cells`, s), 0, [props.id]);
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [live, setLive] = useState('connecting');
  const [note, setNote] = useState<string | undefined>(undefined);
  const finalSeen = useRef(false);
  const [current, setCurrent] = useState<{ cell: string; workload: string; repetition: number } | undefined>(undefined);
  // uPlot comes with the charts module, loaded after the first paint (the list pages never need it).
  const [HostCharts, setHostCharts] = useState<typeof HostChartsT | undefined>(undefined);
  useEffect(() => {
    import('../charts.js').then((m) => setHostCharts(() => m.HostCharts), (err: Error) => setNote(`Could not load the charts: ${err.message}`));
  }, []);
  const runIndex = useRef(new Map<string, RunStatus>());
  runIndex.current = new Map((runs.data ?? []).map((r) => [r.id, r]));
  const reloads = useRef({ exp: exp.reload, runs: runs.reload, cells: cells.reload });
  reloads.current = { exp: exp.reload, runs: runs.reload, cells: cells.reload };

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        reloads.current.exp();
        reloads.current.runs();
        reloads.current.cells();
      }, 150);
    };
    void stream(`${base}/events`, {
      onEvent: (ev) => {
        const d = JSON.parse(ev.data) as Record<string, unknown>;
        const type = ev.event ?? 'message';
        if (type === 'state' && FINAL.includes(String(d['state']))) {
          finalSeen.current = true;
          setCurrent(undefined);
        }
        if (type === 'run' && d['state'] === 'running') setCurrent({ cell: String(d['cell']), workload: String(d['workload']), repetition: Number(d['repetition']) });
        setEvents((list) => [{ id: ev.id ?? '', type, text: describe(type, d, runIndex.current) }, ...list].slice(0, 60));
        refresh();
      },
      onStatus: (s, detail) => setLive(detail === undefined ? s : `${s}: ${detail}`),
      done: () => finalSeen.current,
    }, abort.signal);
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [base]);

  const e = exp.data;
  const now = e?.state === 'running' ? (current ?? e.current) : undefined;
  const openReport = async (): Promise<void> => {
    const w = window.open('', '_blank');
    try {
      const html = await (await request('GET', `${base}/report`)).text();
      const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      if (w) w.location.href = url;
      else location.href = url;
      setNote('The report opened in a new tab.');
    } catch (err) {
      w?.close();
      setNote(`Could not open the report: ${(err as Error).message}`);
    }
  };
  const save = (path: string, name: string): void => {
    download(`${base}/${path}`, name).then(() => setNote(`Saved ${name}.`), (err: Error) => setNote(`Could not download ${name}: ${err.message}`));
  };

  return html`
    <h1>${e?.name ?? props.id}</h1>
    <${ErrorNote} error=${exp.error} what="Could not load the experiment" />
    ${e === undefined ? html`<p>Loading…</p>` : html`
    <section aria-labelledby="overview-title" class="overview">
      <h2 id="overview-title" class="sr-only">Overview</h2>
      <dl class="facts">
        <div><dt>State</dt><dd><${State} state=${e.state} /></dd></div>
        <div><dt>Started</dt><dd>${when(e.startedAt)}</dd></div>
        <div><dt>Duration</dt><dd>${seconds(between(e.startedAt, e.finishedAt))}</dd></div>
        <div><dt>ETA</dt><dd>${e.state === 'running' ? seconds(eta(e)) : '—'}</dd></div>
        <div><dt>Hosts</dt><dd>${e.hosts.join(', ')}</dd></div>
        <div><dt>Now running</dt><dd class="current">${now === undefined ? '—' : `cell ${now.cell}, workload ${now.workload}, repetition ${now.repetition}`}</dd></div>
      </dl>
      <${ProgressBar} p=${e.progress} label="Progress" />
      ${e.error === undefined ? null : html`<p class="error"><span aria-hidden="true">${e.state === 'paused' ? '⏸' : '✗'} </span>${e.state === 'paused' ? 'Paused: ' : ''}${e.error}</p>`}
      <div class="actions">
        <button type="button" onClick=${() => void openReport()}>Open HTML report</button>
        <button type="button" class="secondary" onClick=${() => save('results?format=csv', `${e.id}.csv`)}>Results CSV</button>
        <button type="button" class="secondary" onClick=${() => save('results?format=json', `${e.id}.json`)}>Results JSON</button>
        <button type="button" class="secondary" onClick=${() => save('bundle', `${e.id}.seconet.json.gz`)}>Results bundle</button>
        <${ResumeButton} experiment=${e} onDone=${(_x: unknown, m: string) => { setNote(m); exp.reload(); }} />
        <${CancelButton} experiment=${e} onDone=${(_x: unknown, m: string) => { setNote(m); exp.reload(); }} />
      </div>
      <p role="status" class="note">${note ?? ''}</p>
    </section>`}

    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      <p class="note">Live updates: ${live}</p>
      <${ErrorNote} error=${runs.error} what="Could not load the runs" />
      ${runs.data === undefined ? null : html`
      <table class="runs">
        <caption>${runs.data.filter((r) => r.state === 'succeeded' || r.state === 'failed').length} of ${runs.data.length} runs finished</caption>
        <thead><tr><th scope="col">Cell</th><th scope="col">Workload</th><th scope="col">Repetition</th><th scope="col">State</th><th scope="col">Duration</th><th scope="col">Reason</th></tr></thead>
        <tbody>${runs.data.map((r) => {
          const notRun = r.state === 'pending' && e !== undefined && FINAL.includes(e.state);
          return html`<tr key=${r.id} data-run=${r.id} data-state=${r.state}>
          <td class="mono">${r.cell}</td><td>${r.workload}</td><td>${r.repetition}</td>
          <td>${notRun ? html`<span class="state state-skipped"><span aria-hidden="true">↷ </span>not run</span>` : html`<${State} state=${r.state} />`}${r.attempts > 1 ? ` (${r.attempts} attempts)` : ''}</td>
          <td>${r.state === 'pending' || r.state === 'skipped' ? '—' : seconds(between(r.startedAt, r.finishedAt))}</td>
          <td class="reason">${r.error ?? (notRun ? `experiment ${e.state} before this run` : '')}</td></tr>`;
        })}</tbody>
      </table>`}
    </section>

    <section aria-labelledby="cells-title">
      <h2 id="cells-title">Cells</h2>
      <${ErrorNote} error=${cells.error} what="Could not load the cells" />
      ${cells.data === undefined ? null : html`
      <table class="cells">
        <caption>Setup seconds per building block and the isolation verdict of each cell</caption>
        <thead><tr><th scope="col">Cell</th><th scope="col">State</th><th scope="col">Variants</th>${BLOCKS.map((b) => html`<th scope="col">Setup: ${b}</th>`)}<th scope="col">Isolation</th></tr></thead>
        <tbody>${cells.data.map((c) => html`<tr key=${c.id}>
          <th scope="row">${c.network} / ${c.tunnel} / ${c.filter}, ${c.containers} containers, ${c.rules} rules<br /><small class="mono">${c.id}</small></th>
          <td>${c.state === 'pending' && now?.cell === c.id ? html`<${State} state="running" /> (measuring)` : html`<${State} state=${c.state} />`}${c.error === undefined ? null : html`<br /><small class="reason">${c.error}</small>`}</td>
          <td>${c.tunnelVariant === '' && c.filterVariant === '' ? '—' : `tunnel ${c.tunnelVariant || '—'}, filter ${c.filterVariant || '—'}`}</td>
          ${BLOCKS.map((b) => html`<td>${seconds(c.setupSeconds[b])}</td>`)}
          <td title=${c.isolationEvidence}>${isolation(c)}${c.isolationEvidence ? html`<br /><small>${c.isolationEvidence}</small>` : null}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>

    <section aria-labelledby="hosts-title">
      <h2 id="hosts-title">Hosts, live</h2>
      ${e === undefined || HostCharts === undefined ? html`<p>Loading…</p>` : html`<${HostCharts} hosts=${e.hosts} />`}
    </section>

    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <ol class="events" aria-live="polite" aria-relevant="additions">
        ${events.map((ev) => html`<li key=${ev.id}><span class="mono">#${ev.id}</span> <span class="etype">${ev.type}</span> ${ev.text}</li>`)}
      </ol>
    </section>`;
}
