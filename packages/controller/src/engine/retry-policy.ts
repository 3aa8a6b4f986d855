// Which failed attempts are worth a second one. A run is retried only when what failed can
// change on its own: an agent that was starting or stopping (UNAVAILABLE), a deadline (TIMEOUT),
// a concurrent apply on the same scope (CONFLICT), or a tool that failed for a reason no code
// pins down (COMMAND_FAILED, INTERNAL). An error the agent (or the controller) decided from
// the request and the host alone, i.e. a gRPC INVALID_ARGUMENT, FAILED_PRECONDITION,
// NOT_FOUND, UNAUTHENTICATED or PERMISSION_DENIED, comes back the same on every attempt: the
// run fails at once with that reason instead of burning its retry budget and the sweep's time.

import { ErrorCodes, type ErrorCode, type GrpcStatus } from '@seconet/core';

const DETERMINISTIC: ReadonlySet<GrpcStatus> = new Set<GrpcStatus>(['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'NOT_FOUND', 'UNAUTHENTICATED', 'PERMISSION_DENIED']);

/** Whether an error code (the registry's, as agents report it) comes back the same on a retry. */
export function isDeterministic(code: string | undefined): boolean {
  if (code === undefined || !(code in ErrorCodes)) return false;
  return DETERMINISTIC.has(ErrorCodes[code as ErrorCode].grpc);
}

/** The first deterministic code among a failed attempt's errors, or undefined when a retry may help. */
export function deterministicCode(codes: ReadonlyArray<string | undefined>): string | undefined {
  return codes.find((c) => isDeterministic(c));
}
