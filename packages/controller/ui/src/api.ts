// The dashboard's only way to the controller: fetch with the bearer token from the sign-in form
// (kept in sessionStorage, so it lives as long as the tab and never appears in a URL), errors
// turned into ApiError with the API's {code, message, field}, and server-sent events read from
// a fetch body (EventSource cannot send an Authorization header) through eventsource-parser,
// reconnecting with Last-Event-ID so nothing is missed or repeated.

import { createParser, type EventSourceMessage } from 'eventsource-parser';

const TOKEN_KEY = 'seconet.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Called when the API answers 401: the page goes back to the sign-in form. */
let onUnauthorized: (e: ApiError) => void = () => undefined;
export function whenUnauthorized(fn: (e: ApiError) => void): void {
  onUnauthorized = fn;
}

function headers(extra: Record<string, string> = {}, tok = token()): Record<string, string> {
  return { ...(tok === null ? {} : { authorization: `Bearer ${tok}` }), ...extra };
}

async function fail(res: Response): Promise<never> {
  let body: { code?: string; message?: string; field?: string } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON: keep the status line */
  }
  const e = new ApiError(res.status, body.code ?? `HTTP_${res.status}`, body.message ?? `${res.status} ${res.statusText}`, body.field);
  if (res.status === 401) onUnauthorized(e);
  throw e;
}

export async function request(method: string, path: string, opts: { body?: string; type?: string; tok?: string; signal?: AbortSignal } = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headers(opts.type === undefined ? {} : { 'content-type': opts.type }, opts.tok ?? token()),
      ...(opts.body === undefined ? {} : { body: opts.body }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'UNREACHABLE', `the controller does not answer (${(e as Error).message})`);
  }
  if (!res.ok) await fail(res);
  return res;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await request('GET', path, signal === undefined ? {} : { signal })).json()) as T;
}

/** Fetches an authenticated file and saves it under `filename` through a temporary blob link. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await (await request('GET', path)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export interface StreamHandlers {
  onEvent(ev: EventSourceMessage): void;
  /** Connection state in words, for the page to show. */
  onStatus?(status: 'connecting' | 'live' | 'reconnecting' | 'ended', detail?: string): void;
  /** Return true to stop reconnecting (the stream reached a final state). */
  done?(): boolean;
}

/**
 * Reads server-sent events from `path` until `signal` aborts or `done()` says so, reconnecting
 * after a dropped connection with the last event id it saw.
 */
export async function stream(path: string, h: StreamHandlers, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  let retryMs = 1000;
  while (!signal.aborted) {
    h.onStatus?.(lastId === undefined ? 'connecting' : 'reconnecting');
    try {
      const res = await fetch(path, {
        headers: headers({ accept: 'text/event-stream', ...(lastId === undefined ? {} : { 'last-event-id': lastId }) }),
        signal,
      });
      if (!res.ok) await fail(res);
      h.onStatus?.('live');
      const parser = createParser({
        onEvent: (ev) => {
          if (ev.id !== undefined) lastId = ev.id;
          h.onEvent(ev);
        },
        onRetry: (ms) => {
          retryMs = ms;
        },
      });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) {
        h.onStatus?.('ended', e.message);
        return;
      }
      h.onStatus?.('reconnecting', (e as Error).message);
    }
    if (h.done?.() === true) {
      h.onStatus?.('ended');
      return;
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
}
