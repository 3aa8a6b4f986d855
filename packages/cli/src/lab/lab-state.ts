// The lab's state file: what `lab up` started (PIDs with their start times, ports, paths), so
// `lab down`, `lab status`, the other commands' defaults (--api, --token-file) and the next
// `lab up` after a crash can find and clean everything without guessing. Written atomically
// (temp file + rename), mode 0600.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeconetError } from '@seconet/core';
import type { VmHostFields, VmRecord } from './vm-lab.js';

export interface ProcessRecord {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat when it started; a PID whose start time differs is someone else. */
  readonly startTime: string;
  readonly logFile: string;
}

/** A lab host; a VM lab's hosts also carry VmHostFields (QEMU, SSH port, kernel release). */
export interface LabHostRecord extends VmHostFields {
  readonly name: string;
  readonly netns: string;
  readonly prefix: string;
  readonly address: string;
  readonly configFile: string;
  readonly agent?: ProcessRecord | undefined;
}

export interface LabState {
  readonly version: 1;
  readonly id: string;
  readonly dir: string;
  readonly createdAt: string;
  readonly switchNetns: string;
  readonly hosts: readonly LabHostRecord[];
  readonly redis?: (ProcessRecord & { readonly port: number; readonly dir: string }) | undefined;
  readonly controller?: (ProcessRecord & { readonly configFile: string }) | undefined;
  /** `seconet lab supervise`: restarts the daemons above when they exit. */
  readonly supervisor?: ProcessRecord | undefined;
  readonly apiUrl: string;
  readonly tokenFile: string;
  /** A VM lab (`lab up --vm`): its guests' namespace, directory, accelerator and timings. */
  readonly vm?: VmRecord | undefined;
}

/** The kind of host a lab's agents run on, as results record it. */
export function labHostKind(s: LabState): 'netns-lab' | 'vm-kvm' | 'vm-tcg' {
  return s.vm?.hostKind ?? 'netns-lab';
}

export function labDir(): string {
  return process.env['SECONET_LAB_DIR'] ?? '/var/lib/seconet/lab';
}

export function stateFile(dir = labDir()): string {
  return join(dir, 'state.json');
}

export function readLabState(dir = labDir()): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile(dir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as LabState;
    if (s.version !== 1 || typeof s.id !== 'string' || !Array.isArray(s.hosts)) throw new Error('unexpected shape');
    return s;
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `lab state ${stateFile(dir)} is damaged (${(e as Error).message}); remove it and run seconet lab down`, { field: 'labState', cause: e });
  }
}

export function writeLabState(state: LabState): void {
  mkdirSync(state.dir, { recursive: true, mode: 0o700 });
  const tmp = `${stateFile(state.dir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, stateFile(state.dir));
}

export function removeLabState(dir = labDir()): void {
  rmSync(stateFile(dir), { force: true });
}
