// What the gRPC server needs from the reconciler (reconciler/reconciler.ts implements it).
// Methods throw SeconetError: INVALID_ARGUMENT (bad field), MISSING_TOOL (FAILED_PRECONDITION),
// CONFLICT (ABORTED: concurrent Apply on the scope), UNAVAILABLE (stopping).

import type { ApplyRequest__Output } from '../gen/seconet/agent/v1/ApplyRequest.js';
import type { ApplyResponse } from '../gen/seconet/agent/v1/ApplyResponse.js';
import type { CheckRequest__Output } from '../gen/seconet/agent/v1/CheckRequest.js';
import type { CheckResponse } from '../gen/seconet/agent/v1/CheckResponse.js';
import type { GCRequest__Output } from '../gen/seconet/agent/v1/GCRequest.js';
import type { GCResponse } from '../gen/seconet/agent/v1/GCResponse.js';
import type { TeardownRequest__Output } from '../gen/seconet/agent/v1/TeardownRequest.js';
import type { TeardownResponse } from '../gen/seconet/agent/v1/TeardownResponse.js';
import type { CapabilityReport, ContainerHandle } from '../driver.js';

export interface ReconcilerApi {
  apply(req: ApplyRequest__Output): Promise<ApplyResponse>;
  check(req: CheckRequest__Output): Promise<CheckResponse>;
  teardown(req: TeardownRequest__Output): Promise<TeardownResponse>;
  gc(req: GCRequest__Output): Promise<GCResponse>;
  /** Scopes with an applied journal. */
  scopes(): string[];
  /** The containers of an applied scope (for workloads and metrics). */
  containers(scope: string): readonly ContainerHandle[];
  /** Probes of every network, tunnel and filter driver. */
  probe(): Promise<CapabilityReport[]>;
  /** Waits for running Applies to finish, refuses new ones (UNAVAILABLE). */
  close(): Promise<void>;
}
