// Experiments: every experiment with state, progress (done, failed, total), ETA, start and
// duration; a state filter; cancel with a confirmation. The list is polled every two seconds.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { CancelButton, ErrorNote, ProgressBar, State, usePoll } from '../components.js';
import { between, seconds, when } from '../format.js';
import type { ExperimentT } from '../types.js';

const STATES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;

/** Seconds left, from the pace of the runs so far; undefined until one run ended. */
export function eta(e: ExperimentT, now = Date.now()): number | undefined {
  if (e.state !== 'running' || e.startedAt === undefined) return undefined;
  const ended = e.progress.runsDone + e.progress.runsFailed;
  if (ended === 0) return undefined;
  const elapsed = (now - Date.parse(e.startedAt)) / 1000;
  return (elapsed / ended) * Math.max(0, e.progress.runsTotal - ended);
}

export function ExperimentsPage() {
  const [filter, setFilter] = useState<string>('all');
  const [note, setNote] = useState<string | undefined>(undefined);
  const { data, error, reload } = usePoll((signal) => getJson<ExperimentT[]>('/v1/experiments', signal), 2000);
  const list = (data ?? []).filter((e) => filter === 'all' || e.state === filter).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return html`
    <h1>Experiments</h1>
    <div class="toolbar">
      <label for="state-filter">Show</label>
      <select id="state-filter" value=${filter} onChange=${(e: Event) => setFilter((e.target as HTMLSelectElement).value)}>
        <option value="all">all states</option>
        ${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
      <a class="button" href="#/submit">Submit an experiment</a>
    </div>
    <p role="status" class="note">${note ?? ''}</p>
    <${ErrorNote} error=${error} what="Could not load the experiments" />
    ${data === undefined && error === undefined ? html`<p>Loading…</p>` : null}
    ${data !== undefined && list.length === 0 ? html`<p>No experiments${filter === 'all' ? '' : ` in state ${filter}`}.</p>` : null}
    ${list.length > 0 ? html`
    <table class="experiments">
      <caption>${list.length} experiment${list.length === 1 ? '' : 's'}${filter === 'all' ? '' : `, state ${filter}`}</caption>
      <thead><tr><th scope="col">Experiment</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">ETA</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${list.map((e) => html`<tr key=${e.id}>
          <th scope="row"><a href=${`#/experiments/${encodeURIComponent(e.id)}`}>${e.name}</a><br /><small class="mono">${e.id}</small></th>
          <td><${State} state=${e.state} />${e.error === undefined ? null : html`<br /><small class="reason">${e.error}</small>`}</td>
          <td><${ProgressBar} p=${e.progress} label=${`Progress of ${e.name}`} /></td>
          <td>${e.state === 'running' ? seconds(eta(e)) : '—'}</td>
          <td>${when(e.startedAt)}</td>
          <td>${seconds(between(e.startedAt, e.finishedAt))}</td>
          <td><${CancelButton} experiment=${e} onDone=${(_x: unknown, m: string) => { setNote(m); reload(); }} /></td>
        </tr>`)}
      </tbody>
    </table>` : null}`;
}
