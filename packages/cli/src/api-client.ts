// The CLI's side of the REST API: fetch with the bearer token, error bodies turned back into
// SeconetErrors (same code, message and field the server sent), and a connection failure turned
// into UNAVAILABLE naming the URL, so every command exits with the registry's code.

import { ErrorCodes, SeconetError, type ErrorCode, type ResultRow } from '@seconet/core';
import type { AgentStatus, ExperimentSummary } from '@seconet/controller';

export interface PlanBody {
  readonly cells: ReadonlyArray<Record<string, unknown>>;
  readonly runsTotal: number;
  readonly skipped: ReadonlyArray<{ cell: Record<string, unknown>; reason: string; workload?: string }>;
  readonly estimatedSeconds: number;
  readonly notes?: readonly string[];
}

export interface SseEvent {
  readonly id: number;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

export class ApiClient {
  readonly base: string;

  constructor(base: string, private readonly token: string) {
    this.base = base.replace(/\/+$/, '');
  }

  private async request(method: string, path: string, init: { body?: string; contentType?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...init.headers };
    if (init.contentType !== undefined) headers['content-type'] = init.contentType;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }), ...(init.signal ? { signal: init.signal } : {}) });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw new SeconetError('CANCELLED', 'request aborted', { cause: e });
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new SeconetError('UNAVAILABLE', `cannot reach the controller at ${this.base} (${cause}); is it running? (seconet lab status)`, { cause: e, field: 'api' });
    }
    if (res.ok) return res;
    let body: { code?: string; message?: string; field?: string } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      /* not JSON */
    }
    const code: ErrorCode = body.code !== undefined && body.code in ErrorCodes ? (body.code as ErrorCode) : res.status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
    throw new SeconetError(code, body.message ?? `${method} ${path}: HTTP ${res.status}`, body.field === undefined ? {} : { field: body.field });
  }

  async health(): Promise<boolean> {
    try {
      const r = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(2000) });
      return r.ok;
    } catch {
      return false;
    }
  }

  async submit(spec: string, contentType: string): Promise<{ id: string }> {
    return (await this.request('POST', '/v1/experiments', { body: spec, contentType })).json() as Promise<{ id: string }>;
  }

  async plan(spec: string, contentType: string): Promise<PlanBody> {
    return (await this.request('POST', '/v1/experiments?dryRun=true', { body: spec, contentType })).json() as Promise<PlanBody>;
  }

  async list(): Promise<ExperimentSummary[]> {
    return (await this.request('GET', '/v1/experiments')).json() as Promise<ExperimentSummary[]>;
  }

  async get(id: string): Promise<ExperimentSummary> {
    return (await this.request('GET', `/v1/experiments/${encodeURIComponent(id)}`)).json() as Promise<ExperimentSummary>;
  }

  async cancel(id: string): Promise<ExperimentSummary> {
    return (await this.request('DELETE', `/v1/experiments/${encodeURIComponent(id)}`)).json() as Promise<ExperimentSummary>;
  }

  async resume(id: string): Promise<ExperimentSummary> {
    return (await this.request('POST', `/v1/experiments/${encodeURIComponent(id)}/resume`)).json() as Promise<ExperimentSummary>;
  }

  async resultsCsv(id: string): Promise<string> {
    return (await this.request('GET', `/v1/experiments/${encodeURIComponent(id)}/results?format=csv`)).text();
  }

  async resultsJson(id: string): Promise<ResultRow[]> {
    return (await this.request('GET', `/v1/experiments/${encodeURIComponent(id)}/results?format=json`)).json() as Promise<ResultRow[]>;
  }

  async report(id: string): Promise<string> {
    return (await this.request('GET', `/v1/experiments/${encodeURIComponent(id)}/report`)).text();
  }

  async agents(): Promise<AgentStatus[]> {
    return (await this.request('GET', '/v1/agents')).json() as Promise<AgentStatus[]>;
  }

  /** Progress events after `after`, until the server ends the stream or `signal` aborts. */
  async *events(id: string, after: number, signal: AbortSignal): AsyncGenerator<SseEvent> {
    const res = await this.request('GET', `/v1/experiments/${encodeURIComponent(id)}/events`, { headers: { 'last-event-id': String(after), accept: 'text/event-stream' }, signal });
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const ev = parseSseBlock(block);
          if (ev) yield ev;
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw new SeconetError('UNAVAILABLE', `the event stream from ${this.base} broke: ${(e as Error).message}`, { cause: e });
    }
  }
}

export function parseSseBlock(block: string): SseEvent | undefined {
  let id: number | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const key = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (key === 'id') id = Number(value);
    else if (key === 'event') event = value;
    else if (key === 'data') data.push(value);
  }
  if (id === undefined || !Number.isFinite(id) || data.length === 0) return undefined;
  try {
    return { id, event, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}
