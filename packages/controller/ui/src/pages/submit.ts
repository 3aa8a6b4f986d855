// Submit: paste or upload a YAML/JSON spec; "Check (dry run)" shows the plan (cells, skipped
// cells with reasons, run count, estimated time) before anything is queued; "Queue" submits it.
// A rejected spec shows the server's message at the line of the field it names, beside the
// editor, and the editor is marked invalid and described by that message.

import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError, request } from '../api.js';
import { locateField, type Location } from '../field-locate.js';
import { seconds } from '../format.js';
import type { PlanT } from '../types.js';

const EXAMPLE = `name: dashboard-example
placement: multi-host
matrix:
  network: [bridge]
  tunnel: [none, vxlan]
  filter: [iptables]
  containers: [2]
workloads:
  - latency-basic: {duration: 2, count: 10, interval: 0.2}
repetitions: {min: 1, max: 2}
`;

interface Problem {
  readonly message: string;
  readonly code: string;
  readonly field?: string | undefined;
  readonly at?: Location | undefined;
}

function contentType(text: string): string {
  return /^\s*[[{]/.test(text) ? 'application/json' : 'application/yaml';
}

export function SubmitPage() {
  const [text, setText] = useState(EXAMPLE);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [plan, setPlan] = useState<PlanT | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);

  const send = async (dryRun: boolean): Promise<void> => {
    setBusy(dryRun ? 'Checking…' : 'Queueing…');
    setProblem(undefined);
    try {
      const res = await request('POST', `/v1/experiments${dryRun ? '?dryRun=true' : ''}`, { body: text, type: contentType(text) });
      if (dryRun) {
        setPlan((await res.json()) as PlanT);
        requestAnimationFrame(() => document.getElementById('plan-title')?.focus());
      }
      else location.hash = `#/experiments/${encodeURIComponent(((await res.json()) as { id: string }).id)}`;
    } catch (e) {
      setPlan(undefined);
      if (e instanceof ApiError) {
        const at = e.field !== undefined && e.field !== '' && e.field !== 'body' ? await locateField(text, e.field).catch(() => undefined) : undefined;
        // The message starts with the field it names; shown beside that field, it need not repeat it.
        const message = e.field !== undefined && e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
        setProblem({ message, code: e.code, field: e.field, at });
      } else setProblem({ message: (e as Error).message, code: 'ERROR' });
    } finally {
      setBusy(undefined);
    }
  };

  const goToField = (): void => {
    const a = area.current;
    if (!a) return;
    a.focus();
    if (problem?.at) a.setSelectionRange(problem.at.start, problem.at.end);
  };

  const upload = async (e: Event): Promise<void> => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) {
      setText(await f.text());
      setProblem(undefined);
      setPlan(undefined);
    }
  };

  const lines = text.split('\n');
  const badLine = problem?.at?.line;
  return html`
    <h1>Submit an experiment</h1>
    ${problem === undefined ? null : html`
      <div class="error-summary" role="alert" id="spec-error">
        <h2>The controller rejected the spec</h2>
        <p><span aria-hidden="true">✗ </span>${problem.field ? html`<code>${problem.field}</code>: ` : null}${problem.message}</p>
        ${problem.at ? html`<p>At line ${problem.at.line}${problem.at.exact ? '' : ' (where the field belongs)'}: <a href="#spec" onClick=${(e: Event) => { e.preventDefault(); goToField(); }}>go to the field in the editor</a></p>` : null}
      </div>`}
    <form class="submit" onSubmit=${(e: Event) => { e.preventDefault(); void send(false); }}>
      <div class="editor">
        <label for="spec">Experiment spec (YAML or JSON)</label>
        <textarea id="spec" ref=${area} rows="18" spellcheck="false" value=${text}
          aria-invalid=${problem === undefined ? 'false' : 'true'} aria-describedby=${problem === undefined ? 'spec-help' : 'spec-help spec-error'}
          onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
        <p id="spec-help" class="help">The same spec <code>seconet submit</code> takes (docs/spec.md). Hosts default to every agent.</p>
        <label for="spec-file">Or upload a spec file</label>
        <input id="spec-file" type="file" accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml" onChange=${(e: Event) => void upload(e)} />
      </div>
      ${problem?.at === undefined ? null : html`
      <section class="annotated" aria-labelledby="annotated-title">
        <h2 id="annotated-title">Where the problem is</h2>
        <ol class="source">
          ${lines.map((l, i) => i + 1 === badLine ? html`<li class="bad" value=${i + 1} id="bad-line"><code>${l || ' '}</code><p class="field-error"><span aria-hidden="true">⚠ </span><strong>${problem.field}</strong>: ${problem.message}</p></li>`
            : Math.abs(i + 1 - (badLine ?? 0)) <= 4 ? html`<li value=${i + 1}><code>${l || ' '}</code></li>` : null)}
        </ol>
      </section>`}
      <div class="actions">
        <button type="button" disabled=${busy !== undefined} onClick=${() => void send(true)}>Check (dry run)</button>
        <button type="submit" disabled=${busy !== undefined}>Queue experiment</button>
        <span role="status">${busy ?? ''}</span>
      </div>
    </form>
    ${plan === undefined ? null : html`<${PlanView} plan=${plan} />`}`;
}

function PlanView(props: { plan: PlanT }) {
  const { plan } = props;
  return html`
    <section aria-labelledby="plan-title" class="plan">
      <h2 id="plan-title" tabindex="-1">Dry run: nothing is queued yet</h2>
      <dl class="facts">
        <div><dt>Runs</dt><dd>${plan.runsTotal}</dd></div>
        <div><dt>Cells</dt><dd>${plan.cells.length}</dd></div>
        <div><dt>Skipped cells</dt><dd>${plan.skipped.length}</dd></div>
        <div><dt>Estimated time</dt><dd>${seconds(plan.estimatedSeconds)}</dd></div>
      </dl>
      <table>
        <caption>Cells in run order</caption>
        <thead><tr><th scope="col">#</th><th scope="col">Network</th><th scope="col">Tunnel</th><th scope="col">Filter</th><th scope="col">Containers</th><th scope="col">Rules</th><th scope="col">Hosts</th><th scope="col">Runs</th></tr></thead>
        <tbody>${plan.cells.map((c) => html`<tr key=${c.id}><td>${c.index + 1}</td><td>${c.network}</td><td>${c.tunnel}</td><td>${c.filter}</td><td>${c.containers}</td><td>${c.rules}</td><td>${c.hosts.join(', ')}</td><td>${plan.runs.filter((r) => r.cell === c.id).length}</td></tr>`)}</tbody>
      </table>
      ${plan.skipped.length === 0 ? html`<p>No cell is skipped.</p>` : html`
      <table class="skipped">
        <caption>Skipped cells, with the reason</caption>
        <thead><tr><th scope="col">Network</th><th scope="col">Tunnel</th><th scope="col">Filter</th><th scope="col">Containers</th><th scope="col">Rules</th><th scope="col">Reason</th></tr></thead>
        <tbody>${plan.skipped.map((s) => html`<tr><td>${s.cell.network}</td><td>${s.cell.tunnel}</td><td>${s.cell.filter}</td><td>${s.cell.containers}</td><td>${s.cell.rules}</td><td class="reason">${s.reason}</td></tr>`)}</tbody>
      </table>`}
    </section>`;
}
