// What every route plugin is given, and the error responses every route documents.

import type { StreamGate } from '../sse.js';
import type { ControllerService } from '../../service.js';
import { ErrorBody } from '../schemas.js';

export interface RouteOptions {
  readonly service: ControllerService;
  /** Interval of SSE keep-alive comments. */
  readonly heartbeatMs: number;
  /** The cap on open event streams, shared by every streaming route. */
  readonly streams: StreamGate;
}

export const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody, 500: ErrorBody } as const;
