// Everything the report and the exports need about one experiment, read from the store in one
// call (Store.reportData) so rendering never touches the database.

import type { Cell, ExperimentState, HostSampleRow, ResultRow, SkippedCell } from '@seconet/core';
import type { TimeSplit } from './time-split.js';

/** What crossed the underlay during the cell's pre-flight (configurator/wire-check.ts). */
export interface CellWire {
  readonly encrypted: 'yes' | 'no' | 'unknown';
  readonly claimsEncryption: boolean;
  readonly markerInClear: boolean;
  readonly encapsulation: string;
  readonly evidence: string;
}

export interface CellVerdict {
  readonly cell: Cell;
  /** Pre-flight isolation: true held, false broke (cell not measured), null not checked (filter none). */
  readonly isolation: boolean | null;
  readonly isolationEvidence: string;
  readonly tunnelVariant: string;
  readonly filterVariant: string;
  /** Setup seconds per component ("containers", "network", "tunnel", "filter"), summed over hosts' maxima. */
  readonly setupSeconds: Readonly<Record<string, number>>;
  readonly state: 'pending' | 'measured' | 'invalid' | 'failed';
  readonly error?: string | undefined;
  /** Absent when the wire check did not run (single host, pre-flight off, older store). */
  readonly wire?: CellWire | undefined;
}

export interface RunGroupDecision {
  /** Cell id + workload id. */
  readonly cell: string;
  readonly workload: string;
  readonly metric: string;
  readonly repetitions: number;
  readonly converged: boolean;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly center: number;
  readonly relHalfWidth: number;
}

export interface HostProvenance {
  readonly name: string;
  readonly kernel: string;
  /** netns-lab, vm-kvm, vm-tcg or remote (absent in records made before host kinds existed). */
  readonly hostKind?: string | undefined;
  readonly agentVersion: string;
  readonly tools: ReadonlyArray<{ tool: string; version: string }>;
  readonly cpu: string;
  readonly memoryBytes: number;
  /** The variant of each network solution the host offers, e.g. { ovs: 'kernel' } (absent in older records). */
  readonly networkVariants?: Readonly<Record<string, string>> | undefined;
}

export interface RunRecord {
  readonly id: string;
  readonly cell: string;
  readonly workload: string;
  readonly repetition: number;
  readonly state: string;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  readonly error?: string | undefined;
  readonly attempts: number;
}

export interface ReportData {
  readonly experiment: {
    readonly id: string;
    readonly name: string;
    readonly state: ExperimentState;
    readonly spec: unknown;
    readonly createdAt: string;
    readonly startedAt?: string | undefined;
    readonly finishedAt?: string | undefined;
  };
  readonly cells: readonly CellVerdict[];
  readonly skipped: readonly SkippedCell[];
  readonly runs: readonly RunRecord[];
  readonly rows: readonly ResultRow[];
  /** Per-packet RTT samples etc., by run and pair. */
  readonly series: ReadonlyArray<{ run: string; pair: string; name: string; unit: string; values: readonly number[] }>;
  readonly hostSamples: readonly HostSampleRow[];
  readonly decisions: readonly RunGroupDecision[];
  readonly hosts: readonly HostProvenance[];
  /** Where the wall time went (measuring, setup, teardown, storing, waiting); absent before the experiment started. */
  readonly timeSplit?: TimeSplit | undefined;
  /** Files saved next to the experiment's raw results (a soak report), linked from the report. */
  readonly attachments?: readonly Attachment[] | undefined;
}

export interface Attachment {
  readonly name: string;
  /** Absolute path on the controller's machine. */
  readonly path: string;
  /** One line on what it says, when the controller can read it. */
  readonly summary?: string | undefined;
}
