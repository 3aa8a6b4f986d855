// The one registry of error codes shared by the agent, the controller's REST API and the CLI.
// Every failure a caller can act on has a code here, with the HTTP status the API answers,
// the gRPC status the agent answers and the exit code the CLI ends with. docs/errors.md is
// kept in step with this table by a test.

export interface ErrorCodeInfo {
  readonly http: number;
  readonly grpc: GrpcStatus;
  readonly exit: number;
  readonly description: string;
}

/** gRPC status names (numeric values in @grpc/grpc-js `status`). */
export type GrpcStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'NOT_FOUND'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL';

export const ErrorCodes = {
  INVALID_ARGUMENT: { http: 400, grpc: 'INVALID_ARGUMENT', exit: 2, description: 'A field of the request or spec is malformed or out of range; the message names the field and the fix.' },
  INVALID_SPEC: { http: 400, grpc: 'INVALID_ARGUMENT', exit: 2, description: 'The experiment spec does not match the schema; `field` is the JSON path of the first bad field.' },
  UNSUPPORTED: { http: 422, grpc: 'FAILED_PRECONDITION', exit: 2, description: 'The request is well formed but asks for something no host can do (an impossible matrix, a building block no agent offers).' },
  MISSING_TOOL: { http: 422, grpc: 'FAILED_PRECONDITION', exit: 3, description: 'A tool or kernel feature the request needs is missing on the host; the message says which and how to install it.' },
  UNAUTHORIZED: { http: 401, grpc: 'UNAUTHENTICATED', exit: 4, description: 'No bearer token, or a wrong one.' },
  FORBIDDEN: { http: 403, grpc: 'PERMISSION_DENIED', exit: 14, description: 'The caller is known but not allowed: an agent refused the controller\'s certificate (not among its `controllers`, or revoked) or an address outside its `allowedRanges`.' },
  NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', exit: 5, description: 'No such experiment, agent or object.' },
  CONFLICT: { http: 409, grpc: 'ABORTED', exit: 6, description: 'Another operation holds the same scope or experiment; try again when it ends.' },
  RATE_LIMITED: { http: 429, grpc: 'RESOURCE_EXHAUSTED', exit: 7, description: 'Too many requests; retry after the time the response names.' },
  UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', exit: 8, description: 'The controller, an agent or Redis is starting, stopping or unreachable; safe to retry.' },
  TIMEOUT: { http: 504, grpc: 'DEADLINE_EXCEEDED', exit: 9, description: 'An operation did not finish before its deadline.' },
  CANCELLED: { http: 409, grpc: 'CANCELLED', exit: 10, description: 'The operation was cancelled by the caller.' },
  COMMAND_FAILED: { http: 500, grpc: 'INTERNAL', exit: 11, description: 'A network command on a host failed; the agent log holds its argv and stderr.' },
  SSH_FAILED: { http: 502, grpc: 'UNAVAILABLE', exit: 13, description: 'An SSH connection to a host failed: unreachable, refused login, or a host key that does not match known_hosts.' },
  EXPERIMENT_FAILED: { http: 500, grpc: 'INTERNAL', exit: 12, description: 'The experiment ended in state `failed`.' },
  INTERNAL: { http: 500, grpc: 'INTERNAL', exit: 1, description: 'A bug. The response never carries internals; the server log has the details.' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface SeconetErrorOptions {
  /** JSON path (spec, API body) or protobuf field path (agent request) at fault. */
  field?: string;
  cause?: unknown;
  /** Extra facts for logs and the API body (never secrets). */
  details?: Record<string, unknown>;
}

/** A failure a caller can act on: it names the code, the field at fault and the fix. */
export class SeconetError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SeconetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeconetError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  get info(): ErrorCodeInfo {
    return ErrorCodes[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** Shorthand for the most common error: a bad field. */
export function invalid(field: string, message: string): SeconetError {
  return new SeconetError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

export function isSeconetError(e: unknown): e is SeconetError {
  return e instanceof SeconetError;
}
