// The experiment queue: one BullMQ job per experiment, jobId = experiment id, so submitting
// or re-enqueuing the same experiment can never make two jobs. Jobs live in Redis (AOF on,
// noeviction) and survive controller restarts. A worker with concurrency > 1 runs experiments
// side by side; each job first takes the Redis locks of its experiment's hosts, so experiments
// sharing a host wait for each other and experiments on disjoint hosts do not.
//
// Crash recovery: a controller killed with SIGKILL stops renewing its job lock; after
// `lockDurationMs` the stalled-job check of the next worker (every `stalledIntervalMs`) puts
// the job back in the wait list, and the engine resumes it from the store at its first
// unfinished run. A graceful stop hands the job back at once (moveToDelayed + DelayedError)
// without spending one of its attempts. A re-delivered job that finds its experiment already
// finished returns immediately: the store, not the queue, says what is done.

import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pollUntil, type ExperimentState } from '@seconet/core';
import { HostLocks, LockWaitAbandoned, type HostLease } from './host-locks.js';

export interface ExperimentQueueOptions {
  readonly redisUrl: string;
  /** Redis AUTH password (read from redis.passwordFile); undefined when Redis asks for none. */
  readonly redisPassword?: string | undefined;
  /** Key prefix of queue and locks (default "seconet"). */
  readonly prefix?: string;
  readonly queueName?: string;
  readonly concurrency?: number;
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly hostLockTtlMs?: number;
  /** Runs (or resumes) one experiment to a terminal state; aborting the signal means the controller is stopping. */
  readonly handler: (id: string, signal: AbortSignal) => Promise<ExperimentState>;
  /** The hosts an experiment measures on. */
  readonly hostsOf: (id: string) => readonly string[];
  /** True when the store says the experiment is already finished. */
  readonly isFinished?: (id: string) => boolean;
  readonly onWait?: (id: string, holders: Record<string, string>) => void;
  readonly log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

interface JobData {
  readonly id: string;
}

export class StoppingError extends Error {
  constructor() {
    super('controller stopping');
    this.name = 'StoppingError';
  }
}

/** The job's host locks expired under it; the job goes back to the queue without spending an attempt. */
export class LeaseLost extends Error {
  constructor(id: string) {
    super(`host locks of ${id} were lost`);
    this.name = 'LeaseLost';
  }
}

export class ExperimentQueue {
  readonly connection: Redis;
  readonly queue: Queue<JobData>;
  readonly locks: HostLocks;
  private worker: Worker<JobData> | undefined;
  private workerConnection: Redis | undefined;
  private readonly stopping = new AbortController();
  private readonly name: string;
  private readonly prefix: string;

  constructor(private readonly opts: ExperimentQueueOptions) {
    this.connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...(opts.redisPassword === undefined ? {} : { password: opts.redisPassword }) });
    this.prefix = opts.prefix ?? 'seconet';
    this.name = opts.queueName ?? 'experiments';
    this.queue = new Queue<JobData>(this.name, { connection: this.connection, prefix: this.prefix });
    this.locks = new HostLocks(this.connection, this.prefix);
  }

  /** Adds the experiment's job; a job with this id that already exists is left alone. */
  async enqueue(id: string): Promise<void> {
    await this.queue.add('experiment', { id }, {
      jobId: id,
      attempts: 5,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  /**
   * Makes sure an unfinished experiment has a job that will run: adds a missing one (Redis lost
   * it), and puts one that ran out of attempts back in line, so a restart never strands it.
   */
  async ensureJob(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (!job) return this.enqueue(id);
    const state = await job.getState();
    if (state === 'failed') await job.retry('failed');
    else if (state === 'completed') {
      await job.remove();
      await this.enqueue(id);
    }
  }

  /** Removes a job that has not started (cancel of a queued experiment). */
  async removeWaiting(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await job.remove().catch(() => undefined);
      return true;
    }
    return false;
  }

  /**
   * Waits up to `ms` until the experiment's job is not being processed (an engine that has just
   * paused it is still completing its job). True when it is not active (or gone).
   */
  async waitUntilInactive(id: string, ms: number): Promise<boolean> {
    return await pollUntil(async () => {
      const job = await this.queue.getJob(id);
      return !job || (await job.getState()) !== 'active';
    }, ms, 50);
  }

  async hasJob(id: string): Promise<boolean> {
    return (await this.queue.getJob(id)) !== undefined;
  }

  async depth(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  /** What one delivery of a job does; exposed so tests can deliver the same job twice. */
  async process(id: string, signal: AbortSignal = this.stopping.signal): Promise<ExperimentState | 'finished'> {
    // A lease lost while the experiment runs (Redis paused past the lock TTL) stops it like a
    // controller stop: its runs are left to be retried, and the job is handed back.
    const lost = new AbortController();
    if (this.opts.isFinished?.(id)) return 'finished';
    let waitedLogged = false;
    let lease: HostLease;
    try {
      lease = await this.locks.acquire(this.opts.hostsOf(id), id, {
        ttlMs: this.opts.hostLockTtlMs ?? 10_000,
        signal,
        abandon: () => this.opts.isFinished?.(id) === true,
        onWait: (holders) => {
          if (!waitedLogged) this.opts.onWait?.(id, holders);
          waitedLogged = true;
        },
        onLost: () => {
          this.opts.log?.warn({ experiment: id }, 'host locks lost (Redis paused or gone past their TTL); stopping the experiment to hand it back');
          lost.abort(new LeaseLost(id));
        },
      });
    } catch (err) {
      if (err instanceof LockWaitAbandoned) return 'finished';
      throw err;
    }
    try {
      if (this.opts.isFinished?.(id)) return 'finished';
      const state = await this.opts.handler(id, AbortSignal.any([signal, lost.signal]));
      if (lost.signal.aborted) throw new LeaseLost(id);
      return state;
    } catch (err) {
      if (lost.signal.aborted) throw new LeaseLost(id);
      throw err;
    } finally {
      await lease.release();
    }
  }

  /** Starts the worker. */
  start(): void {
    if (this.worker) return;
    this.workerConnection = this.connection.duplicate();
    this.worker = new Worker<JobData>(this.name, async (job: Job<JobData>, token?: string) => {
      try {
        return await this.process(job.data.id);
      } catch (err) {
        if (this.stopping.signal.aborted || err instanceof LeaseLost) {
          // Hand the job back without spending an attempt; the next controller picks it up.
          await job.moveToDelayed(Date.now() + 500, token);
          throw new DelayedError();
        }
        throw err;
      }
    }, {
      connection: this.workerConnection,
      prefix: this.prefix,
      concurrency: this.opts.concurrency ?? 4,
      lockDuration: this.opts.lockDurationMs ?? 10_000,
      stalledInterval: this.opts.stalledIntervalMs ?? 5_000,
      maxStalledCount: 1000,
      autorun: true,
    });
    this.worker.on('failed', (job, err) => {
      if (!(err instanceof DelayedError)) this.opts.log?.warn({ experiment: job?.data.id, err: err.message }, 'experiment job failed');
    });
    this.worker.on('error', (err) => this.opts.log?.warn({ err: err.message }, 'queue worker error'));
  }

  /**
   * Stops taking jobs, hands running ones back, closes connections. Bounded by `graceMs`: with
   * Redis paused or gone the hand-back cannot happen, and then the connections are cut and the
   * job is redelivered as stalled (its lock expires) to the next controller.
   */
  async close(graceMs = 4000): Promise<void> {
    this.stopping.abort(new StoppingError());
    const bounded = async (p: Promise<unknown>, ms: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([p.then(() => true, () => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
      clearTimeout(timer);
      return r;
    };
    const deadline = Date.now() + graceMs;
    if (this.worker && !(await bounded(this.worker.close(), graceMs * 0.75))) {
      this.opts.log?.warn({ graceMs }, 'the queue worker did not close in time (Redis unreachable?); cutting its connections');
      this.workerConnection?.disconnect();
      void this.worker.close(true).catch(() => undefined);
    }
    if (Date.now() < deadline) await bounded(this.queue.close(), deadline - Date.now());
    this.workerConnection?.disconnect();
    this.connection.disconnect();
  }
}
