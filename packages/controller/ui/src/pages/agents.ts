// Agents: every configured host with health, kernel, agent version and last contact, and its
// capability table (every building block with variant and version, or the reason it is
// missing). Polled every five seconds.

import { html } from 'htm/preact';
import { getJson } from '../api.js';
import { ErrorNote, State, usePoll } from '../components.js';
import { when } from '../format.js';
import type { AgentT } from '../types.js';

export function AgentsPage() {
  const { data, error } = usePoll((s) => getJson<AgentT[]>('/v1/agents', s), 5000);
  return html`
    <h1>Agents</h1>
    <${ErrorNote} error=${error} what="Could not load the agents" />
    ${data === undefined ? (error === undefined ? html`<p>Loading…</p>` : null) : data.length === 0 ? html`<p>No agent is configured.</p>` : null}
    ${(data ?? []).map((a) => {
      const caps = [...a.capabilities].sort((x, y) => x.category.localeCompare(y.category) || x.kind.localeCompare(y.kind) || x.variant.localeCompare(y.variant));
      const ok = caps.filter((c) => c.available).length;
      return html`<section class="agent" aria-labelledby=${`agent-${a.name}`} key=${a.name}>
        <h2 id=${`agent-${a.name}`}>${a.name}</h2>
        <dl class="facts">
          <div><dt>Health</dt><dd><${State} state=${a.healthy ? 'healthy' : 'unreachable'} />${a.error === undefined ? null : html`<br /><small class="reason">${a.error}</small>`}</dd></div>
          <div><dt>Address</dt><dd class="mono">${a.address}</dd></div>
          <div><dt>Kernel</dt><dd>${a.kernel ?? 'unknown'}</dd></div>
          <div><dt>Agent version</dt><dd>${a.agentVersion ?? 'unknown'}</dd></div>
          <div><dt>Last seen</dt><dd>${when(a.lastSeen)}</dd></div>
        </dl>
        ${caps.length === 0 ? html`<p>No capabilities known yet${a.healthy ? '' : ': the agent has not answered'}.</p>` : html`
        <table class="caps">
          <caption>Capabilities of ${a.name}: ${ok} of ${caps.length} available</caption>
          <thead><tr><th scope="col">Category</th><th scope="col">Building block</th><th scope="col">Variant</th><th scope="col">Available</th><th scope="col">Version</th><th scope="col">Reason when missing</th></tr></thead>
          <tbody>${caps.map((c) => html`<tr class=${c.available ? 'yes' : 'no'}>
            <td>${c.category}</td><th scope="row">${c.kind}</th><td>${variant(c.variant)}</td>
            <td>${c.available ? html`<span aria-hidden="true">✓ </span>yes` : html`<span aria-hidden="true">✗ </span>no`}</td>
            <td>${c.version || '—'}</td><td class="reason">${c.available ? '' : c.reason}</td></tr>`)}</tbody>
        </table>`}
      </section>`;
    })}`;
}

function variant(v: string): string {
  if (v === 'VARIANT_KERNEL' || v === '1' || v === 'kernel') return 'kernel';
  if (v === 'VARIANT_USERSPACE' || v === '2' || v === 'userspace') return 'userspace';
  return v === 'VARIANT_UNSPECIFIED' || v === '0' || v === '' ? '—' : v;
}
