// Errors to gRPC statuses, in one place. A SeconetError answers with the status its code has
// in the core registry and its own message (written for the caller); the code and field also
// travel as trailing metadata so a client can name the field. Anything else is a bug or an
// unexpected failure: the caller gets INTERNAL with a fixed message, the log gets the details.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { isSeconetError, type GrpcStatus } from '@seconet/core';

export const CODE_METADATA = 'seconet-code';
export const FIELD_METADATA = 'seconet-field';
export const INTERNAL_MESSAGE = 'internal error, see agent log';

export const GRPC_STATUS: Readonly<Record<GrpcStatus, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ABORTED: grpc.status.ABORTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  NOT_FOUND: grpc.status.NOT_FOUND,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  CANCELLED: grpc.status.CANCELLED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  INTERNAL: grpc.status.INTERNAL,
};

export function toServiceError(err: unknown, log: Logger, context: Record<string, unknown>): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (isSeconetError(err)) {
    metadata.set(CODE_METADATA, err.code);
    if (err.field !== undefined) metadata.set(FIELD_METADATA, err.field);
    const internal = err.info.grpc === 'INTERNAL';
    (internal ? log.error.bind(log) : err.code === 'FORBIDDEN' ? log.warn.bind(log) : log.info.bind(log))({ ...context, code: err.code, field: err.field, err }, 'request failed');
    return { code: GRPC_STATUS[err.info.grpc], details: err.message, metadata };
  }
  log.error({ ...context, err }, 'request failed: unexpected error');
  metadata.set(CODE_METADATA, 'INTERNAL');
  return { code: grpc.status.INTERNAL, details: INTERNAL_MESSAGE, metadata };
}
