// Live host charts with uPlot (small, canvas-based, built for streaming series): per host one
// CPU chart (busy and softirq share, percent) and one network chart (receive and send over the
// host's own interfaces, bit/s), over the last two minutes. A canvas says nothing to a screen
// reader, so each figure's caption carries the latest figures in words.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { stream } from './api.js';
import { bits } from './format.js';
import type { HostMetricsSample } from './types.js';

const WINDOW = 120;

interface Series {
  t: number[];
  busy: number[];
  siq: number[];
  rx: number[];
  tx: number[];
  error?: string | undefined;
}

function Chart(props: { title: string; data: uPlot.AlignedData; series: uPlot.Series[]; yLabel: string; caption: string; version: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    plot.current = new uPlot({
      width: Math.max(240, Math.min(420, el.clientWidth || 320)),
      height: 140,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: true } },
      axes: [{}, { label: props.yLabel, size: 60 }],
      series: [{}, ...props.series],
    }, props.data, el);
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(props.data), [props.version]);
  return html`<figure class="chart">
    <div ref=${box} aria-hidden="true"></div>
    <figcaption><strong>${props.title}</strong>: ${props.caption}</figcaption>
  </figure>`;
}

/** Streams /v1/hosts/metrics for `hosts` while mounted and draws two small charts per host. */
export function HostCharts(props: { hosts: readonly string[] }) {
  const data = useRef(new Map<string, Series>());
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState('connecting');
  const key = props.hosts.join(',');
  useEffect(() => {
    const abort = new AbortController();
    let pending = false;
    void stream(`/v1/hosts/metrics?hosts=${encodeURIComponent(key)}&intervalMs=1000`, {
      onEvent: (ev) => {
        const s = JSON.parse(ev.data) as HostMetricsSample;
        const d = data.current.get(s.host) ?? { t: [], busy: [], siq: [], rx: [], tx: [] };
        data.current.set(s.host, d);
        if (s.error !== undefined) d.error = s.error;
        else {
          d.error = undefined;
          const c = s.cpu;
          d.t.push(s.timestamp);
          d.busy.push(c ? Math.max(0, 100 - c.idle) : NaN);
          d.siq.push(c ? c.siq : NaN);
          d.rx.push(s.interfaces.reduce((a, i) => a + i.rxBytesPerS, 0) * 8);
          d.tx.push(s.interfaces.reduce((a, i) => a + i.txBytesPerS, 0) * 8);
          for (const a of [d.t, d.busy, d.siq, d.rx, d.tx]) if (a.length > WINDOW) a.splice(0, a.length - WINDOW);
        }
        if (!pending) {
          pending = true;
          requestAnimationFrame(() => {
            pending = false;
            setVersion((v) => v + 1);
          });
        }
      },
      onStatus: (s, detail) => setStatus(detail === undefined ? s : `${s}: ${detail}`),
    }, abort.signal);
    return () => abort.abort();
  }, [key]);
  return html`
    <p class="note">Host metrics stream: ${status}</p>
    <div class="hosts">
      ${props.hosts.map((h) => {
        const d = data.current.get(h);
        const last = (a: number[] | undefined): number => (a && a.length > 0 ? a[a.length - 1]! : NaN);
        return html`<section class="host" aria-labelledby=${`host-${h}`} key=${h}>
          <h3 id=${`host-${h}`}>${h}</h3>
          ${d?.error === undefined ? null : html`<p class="error"><span aria-hidden="true">✗ </span>metrics stream failed: ${d.error}</p>`}
          ${d === undefined || d.t.length === 0 ? html`<p>Waiting for the first sample…</p>` : html`
          <${Chart} title="CPU" yLabel="%" version=${version} data=${[d.t, d.busy, d.siq]}
            series=${[{ label: 'busy %', stroke: '#1f5fbf', width: 2 }, { label: 'softirq %', stroke: '#b34700', width: 2, dash: [6, 3] }]}
            caption=${`${last(d.busy).toFixed(1)}% busy, ${last(d.siq).toFixed(1)}% softirq`} />
          <${Chart} title="Network" yLabel="bit/s" version=${version} data=${[d.t, d.rx, d.tx]}
            series=${[{ label: 'receive', stroke: '#2a7d2a', width: 2 }, { label: 'send', stroke: '#7a2a9a', width: 2, dash: [6, 3] }]}
            caption=${`receive ${bits(last(d.rx) / 8)}, send ${bits(last(d.tx) / 8)}`} />`}
        </section>`;
      })}
    </div>`;
}
