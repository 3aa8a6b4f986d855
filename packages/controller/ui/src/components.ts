// Pieces several pages share: a state shown as symbol and word, a progress bar with its figures
// in words, the cancel confirmation (a modal <dialog>, so focus stays inside it and Escape
// closes it), the resume button of a paused experiment, and a polling hook.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request } from './api.js';
import { STATE_MARK } from './format.js';
import type { ExperimentT } from './types.js';

export function State(props: { state: string }) {
  return html`<span class=${`state state-${props.state}`}><span aria-hidden="true">${STATE_MARK[props.state] ?? '•'} </span>${props.state}</span>`;
}

export function ProgressBar(props: { p: ExperimentT['progress']; label: string }) {
  const { runsDone, runsFailed, runsTotal } = props.p;
  const text = `${runsDone} of ${runsTotal} runs done${runsFailed > 0 ? `, ${runsFailed} failed` : ''}`;
  return html`<div class="progress">
    <progress max=${Math.max(runsTotal, 1)} value=${runsDone + runsFailed} aria-label=${`${props.label}: ${text}`}></progress>
    <span>${text}</span>
  </div>`;
}

/** Calls `load` now and every `ms` while mounted; returns its latest value and error. */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, ms: number, deps: unknown[] = []): { data: T | undefined; error: Error | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        setData(await load(abort.signal));
        setError(undefined);
      } catch (e) {
        if (abort.signal.aborted) return;
        setError(e as Error);
      }
      if (!abort.signal.aborted && ms > 0) timer = setTimeout(() => void run(), ms);
    };
    void run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function ErrorNote(props: { error: Error | undefined; what: string }) {
  if (props.error === undefined) return null;
  const e = props.error;
  return html`<p class="error" role="alert"><span aria-hidden="true">✗ </span>${props.what}: ${e.message}${e instanceof ApiError ? ` (${e.code})` : ''}</p>`;
}

/** A "Cancel" button that asks first; `onDone` gets the experiment as the API answered. */
export function CancelButton(props: { experiment: ExperimentT; onDone: (e: ExperimentT | undefined, message: string) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const e = props.experiment;
  if (e.state !== 'queued' && e.state !== 'running' && e.state !== 'paused') return null;
  const confirm = async (): Promise<void> => {
    setBusy(true);
    try {
      const res = await request('DELETE', `/v1/experiments/${encodeURIComponent(e.id)}`);
      const after = (await res.json()) as ExperimentT;
      props.onDone(after, `Experiment ${e.name} is ${after.state === 'cancelled' ? 'cancelled' : `being cancelled (now ${after.state})`}; finished runs stay.`);
    } catch (err) {
      props.onDone(undefined, `Could not cancel ${e.name}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
      dialog.current?.close();
    }
  };
  const titleId = `cancel-title-${e.id}`;
  return html`
    <button type="button" class="danger" onClick=${() => dialog.current?.showModal()} aria-label=${`Cancel experiment ${e.name}`}>Cancel…</button>
    <dialog ref=${dialog} aria-labelledby=${titleId}>
      <h2 id=${titleId}>Cancel experiment ${e.name}?</h2>
      <p>The current run stops; ${e.progress.runsDone} finished run${e.progress.runsDone === 1 ? '' : 's'} and their results stay. This cannot be undone.</p>
      <div class="actions">
        <button type="button" class="danger" disabled=${busy} onClick=${() => void confirm()}>${busy ? 'Cancelling…' : 'Yes, cancel it'}</button>
        <button type="button" class="secondary" autofocus onClick=${() => dialog.current?.close()}>No, keep it running</button>
      </div>
    </dialog>`;
}

/** "Resume" for an experiment that paused itself (a full store disk); the API refuses while space is still short. */
export function ResumeButton(props: { experiment: ExperimentT; onDone: (e: ExperimentT | undefined, message: string) => void }) {
  const [busy, setBusy] = useState(false);
  const e = props.experiment;
  if (e.state !== 'paused') return null;
  const resume = async (): Promise<void> => {
    setBusy(true);
    try {
      const res = await request('POST', `/v1/experiments/${encodeURIComponent(e.id)}/resume`);
      const after = (await res.json()) as ExperimentT;
      props.onDone(after, `Experiment ${e.name} is ${after.state} again; it goes on from the first run it lacks.`);
    } catch (err) {
      props.onDone(undefined, `Could not resume ${e.name}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" disabled=${busy} onClick=${() => void resume()} aria-label=${`Resume experiment ${e.name}`}>${busy ? 'Resuming…' : 'Resume'}</button>`;
}
