// gRPC statuses to SeconetErrors on the client side. The code follows the status (the table
// below is the contract the controller relies on); the message is the agent's; the field
// comes from the agent's trailing metadata when it sent one; the agent's name is in details.

import * as grpc from '@grpc/grpc-js';
import { SeconetError, type ErrorCode } from '@seconet/core';
import { CODE_METADATA, FIELD_METADATA } from '../server/status.js';

const BY_STATUS: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [grpc.status.FAILED_PRECONDITION]: 'MISSING_TOOL',
  [grpc.status.ABORTED]: 'CONFLICT',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [grpc.status.CANCELLED]: 'CANCELLED',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.PERMISSION_DENIED]: 'FORBIDDEN',
  [grpc.status.RESOURCE_EXHAUSTED]: 'RATE_LIMITED',
};

export function codeForStatus(code: grpc.status): ErrorCode {
  return BY_STATUS[code] ?? 'INTERNAL';
}

function isServiceError(e: unknown): e is grpc.ServiceError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'details' in e;
}

export function fromGrpcError(e: unknown, agent: string, method: string): SeconetError {
  if (e instanceof SeconetError) return e;
  if (!isServiceError(e)) return new SeconetError('INTERNAL', `agent ${agent}: ${method}: ${String(e)}`, { cause: e, details: { agent, method } });
  const code = codeForStatus(e.code);
  const field = e.metadata?.get(FIELD_METADATA)[0];
  const agentCode = e.metadata?.get(CODE_METADATA)[0];
  const details = { agent, method, grpcStatus: grpc.status[e.code], ...(agentCode === undefined ? {} : { agentCode: String(agentCode) }) };
  const message = e.details || grpc.status[e.code] || 'error';
  return new SeconetError(code, message, typeof field === 'string' ? { field, cause: e, details } : { cause: e, details });
}
