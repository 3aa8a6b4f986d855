// Follows an experiment to its end: server-sent events (resuming after the last seen id when the
// stream breaks), a progress bar with ETA on a terminal (cli-progress, on stderr) or one line per
// finished run otherwise, and a poll of the experiment's state as the final word.

import cliProgress from 'cli-progress';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SeconetError, isSeconetError } from '@seconet/core';
import type { ExperimentSummary } from '@seconet/controller';
import type { ApiClient } from './api-client.js';

/** Where following stops: the terminal states, and `paused`, which waits for `seconet resume`. */
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'paused']);

export interface FollowOptions {
  /** Show progress on stderr (off with --json). */
  readonly progress: boolean;
  readonly signal?: AbortSignal;
}

export async function follow(api: ApiClient, id: string, opts: FollowOptions): Promise<ExperimentSummary> {
  let exp = await api.get(id);
  const tty = process.stderr.isTTY === true;
  const bar = opts.progress && tty
    ? new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {value}/{total} runs | ETA {eta_formatted} | {what}', hideCursor: true, etaBuffer: 20, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  // runsDone already counts failed and skipped runs (see Progress).
  const done = (e: ExperimentSummary): number => e.progress.runsDone;
  bar?.start(Math.max(exp.progress.runsTotal, 1), done(exp), { what: exp.state });
  let lastId = 0;
  let failures = 0;
  let what = '';
  try {
    while (!FINAL.has(exp.state)) {
      if (opts.signal?.aborted) throw new SeconetError('CANCELLED', `stopped following ${id}; it keeps running (seconet status ${id})`);
      const abort = new AbortController();
      const onAbort = (): void => abort.abort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const ev of api.events(id, lastId, abort.signal)) {
          lastId = ev.id;
          failures = 0;
          const d = ev.data;
          if (typeof d['runsTotal'] === 'number') bar?.setTotal(Math.max(d['runsTotal'], 1));
          if (ev.event === 'run' && d['state'] === 'running') {
            what = describeRun(d);
            bar?.update({ what });
          }
          if (typeof d['runsDone'] === 'number') {
            const n = d['runsDone'];
            bar?.update(n, { what });
            if (opts.progress && !tty && ev.event === 'run') process.stderr.write(`runs ${n}/${String(d['runsTotal'] ?? '?')} ${what}\n`);
          }
          if (opts.progress && !tty && ev.event === 'run' && d['state'] === 'failed') process.stderr.write(`run ${String(d['run'])} failed: ${String(d['error'] ?? 'unknown error')}\n`);
          if (ev.event === 'state' && typeof d['state'] === 'string' && FINAL.has(d['state'])) break;
        }
      } catch (e) {
        if (!isSeconetError(e) || e.code !== 'UNAVAILABLE' || ++failures > 30) throw e;
        await sleep(1000);
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
      exp = await getPatiently(api, id);
      if (!FINAL.has(exp.state)) await sleep(500);
      bar?.setTotal(Math.max(exp.progress.runsTotal, 1));
      bar?.update(done(exp), { what: exp.state });
    }
  } finally {
    bar?.stop();
  }
  return exp;
}

/** The experiment, retrying for up to a minute while the controller restarts. */
async function getPatiently(api: ApiClient, id: string): Promise<ExperimentSummary> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.get(id);
    } catch (e) {
      if (!isSeconetError(e) || e.code !== 'UNAVAILABLE' || attempt >= 60) throw e;
      await sleep(1000);
    }
  }
}

/** "latency-basic/icmp/653 rep 2" from a run event's data. */
function describeRun(d: Record<string, unknown>): string {
  const w = d['workload'];
  const id = typeof w === 'string' ? w : typeof w === 'object' && w !== null && typeof (w as { id?: unknown }).id === 'string' ? (w as { id: string }).id : '';
  return [id, typeof d['repetition'] === 'number' ? `rep ${d['repetition']}` : ''].filter((x) => x.length > 0).join(' ');
}

/** The exit code of a finished (or paused) experiment: 0 only when it succeeded. */
export function experimentExit(e: ExperimentSummary): number {
  if (e.state === 'succeeded') return 0;
  // Paused on a full store disk: safe to continue (seconet resume) once space is back.
  if (e.state === 'paused') return ErrorCodes.UNAVAILABLE.exit;
  if (e.state === 'cancelled') return ErrorCodes.CANCELLED.exit;
  return ErrorCodes.EXPERIMENT_FAILED.exit;
}
