// Underlay captures for the controller's wire check: tcpdump on the host's underlay device (in
// the lab host's namespace where there is one), writing a pcap file under the run directory.
// StartCapture answers once tcpdump says it listens, so the controller's marker traffic cannot
// race the capture; StopCapture stops it, reads the file and answers with the analysis
// (pcap.ts). A capture the controller never stops ends by itself after its maximum duration
// and is forgotten with its file; every capture dies with the agent (close()).

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SeconetError, invalid, isIPv4 } from '@seconet/core';
import type { Logger } from 'pino';
import type { HostEnv } from '../host-env.js';
import type { Runner, Spawned } from '../runner/runner.js';
import { findTool } from '../runner/tools.js';
import type { StartCaptureRequest__Output } from '../gen/seconet/agent/v1/StartCaptureRequest.js';
import type { StartCaptureResponse__Output } from '../gen/seconet/agent/v1/StartCaptureResponse.js';
import type { StopCaptureRequest__Output } from '../gen/seconet/agent/v1/StopCaptureRequest.js';
import type { StopCaptureResponse__Output } from '../gen/seconet/agent/v1/StopCaptureResponse.js';
import { pollUntil } from '@seconet/core';
import { analyzeCapture, parsePcap } from './pcap.js';

/** Packets kept per capture: a pre-flight sends a handful; the limit bounds the file. */
export const CAPTURE_MAX_PACKETS = 20_000;
/** Bytes kept per packet: the marker travels in a small ping, outer headers included. */
export const CAPTURE_SNAPLEN = 512;
const DEFAULT_MAX_MS = 30_000;
const LIMIT_MAX_MS = 120_000;
const LISTEN_WAIT_MS = 10_000;

export interface CaptureDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** TCP ports of the agent's own control connection, left out of the classes. */
  readonly controlPorts?: readonly number[];
}

interface Running {
  readonly proc: Spawned;
  readonly file: string;
  readonly marker: Buffer;
  readonly peers: readonly string[];
  readonly timer: NodeJS.Timeout;
}

export interface CaptureManager {
  start(req: StartCaptureRequest__Output): Promise<StartCaptureResponse__Output>;
  stop(req: StopCaptureRequest__Output): Promise<StopCaptureResponse__Output>;
  /** Stops every capture and removes their files. */
  close(): Promise<void>;
}

export function tcpdumpArgv(dev: string, file: string): string[] {
  // --immediate-mode: packets reach tcpdump at once instead of waiting for a full TPACKET_V3
  // block; on SIGTERM tcpdump does not drain the ring, so a buffered marker would be lost.
  // -U: write each packet at once, so a stopped capture's file is complete; -Z root: keep
  // root so tcpdump may write into the agent's 0700 run directory.
  return ['tcpdump', '-i', dev, '-n', '--immediate-mode', '-U', '-s', String(CAPTURE_SNAPLEN), '-c', String(CAPTURE_MAX_PACKETS), '-Z', 'root', '-w', file];
}

export function createCaptureManager(deps: CaptureDeps): CaptureManager {
  const { env, runner, log } = deps;
  const dir = join(env.runDir, 'captures');
  const running = new Map<string, Running>();

  const drop = async (id: string): Promise<Running | undefined> => {
    const c = running.get(id);
    if (!c) return undefined;
    running.delete(id);
    clearTimeout(c.timer);
    await c.proc.stop(2000);
    return c;
  };

  return {
    async start(req) {
      const marker = Buffer.from(req.marker ?? Buffer.alloc(0));
      if (marker.length < 4 || marker.length > 16) throw invalid('marker', `must be 4 to 16 bytes (got ${marker.length}); the controller sends a random 16-byte marker`);
      const peers = req.peers ?? [];
      peers.forEach((p, i) => {
        if (!isIPv4(p)) throw invalid(`peers[${i}]`, `${JSON.stringify(p)} is not an IPv4 underlay address`);
      });
      const maxMs = req.maxDurationMs === 0 ? DEFAULT_MAX_MS : req.maxDurationMs;
      if (maxMs > LIMIT_MAX_MS) throw invalid('max_duration_ms', `at most ${LIMIT_MAX_MS} ms (got ${maxMs})`);
      if (findTool('tcpdump') === null) throw new SeconetError('MISSING_TOOL', 'tcpdump is not installed on this host: apt-get install tcpdump', { field: 'capture' });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const id = randomUUID();
      const file = join(dir, `${id}.pcap`);
      const argv = tcpdumpArgv(env.underlayDev, file);
      const proc = runner.spawn(argv, { netns: env.hostNetns });
      let exited = false;
      void proc.exited.then(() => (exited = true));
      await pollUntil(() => exited || /listening on /.test(proc.output().stderr), LISTEN_WAIT_MS, 20);
      if (!/listening on /.test(proc.output().stderr)) {
        await proc.stop(1000);
        rmSync(file, { force: true });
        const r = await proc.exited;
        const why = r.stderr.trim().split('\n').slice(-2).join(' | ') || `no "listening on" within ${LISTEN_WAIT_MS} ms`;
        throw new SeconetError('COMMAND_FAILED', `capture on ${env.underlayDev}${env.hostNetns ? ` (netns ${env.hostNetns})` : ''} did not start: ${argv.join(' ')}: ${why}`, { field: 'capture' });
      }
      const timer = setTimeout(() => {
        void drop(id).then((c) => {
          if (c) rmSync(c.file, { force: true });
          log.warn({ capture: id }, 'capture reached its maximum duration without StopCapture; removed');
        });
      }, maxMs);
      timer.unref();
      running.set(id, { proc, file, marker, peers, timer });
      log.info({ capture: id, dev: env.underlayDev, netns: env.hostNetns, peers }, 'capture started');
      return { captureId: id, device: env.underlayDev, netns: env.hostNetns ?? '' };
    },

    async stop(req) {
      const c = await drop(req.captureId);
      if (!c) throw new SeconetError('NOT_FOUND', `capture_id: no running capture ${JSON.stringify(req.captureId)} (it ended at its maximum duration, or the agent restarted)`, { field: 'capture_id' });
      let bytes: Buffer;
      try {
        bytes = readFileSync(c.file);
      } catch (err) {
        const out = c.proc.output().stderr.trim();
        throw new SeconetError('COMMAND_FAILED', `capture file ${c.file} unreadable after ${c.proc.argv.join(' ')}: ${(err as Error).message}${out ? `; tcpdump: ${out}` : ''}`, { cause: err, field: 'capture' });
      } finally {
        rmSync(c.file, { force: true });
      }
      const packets = parsePcap(bytes);
      const a = analyzeCapture(packets, c.marker, c.peers, env.underlayAddress, deps.controlPorts ?? []);
      return {
        packets: a.packets,
        markerPackets: a.markerPackets,
        encapsulations: a.encapsulations.map((e) => ({ name: e.name, packets: e.packets, markerPackets: e.markerPackets })),
        device: env.underlayDev,
        argv: [...c.proc.argv],
        truncated: a.packets >= CAPTURE_MAX_PACKETS,
      };
    },

    async close() {
      for (const id of [...running.keys()]) {
        const c = await drop(id);
        if (c) rmSync(c.file, { force: true });
      }
    },
  };
}
