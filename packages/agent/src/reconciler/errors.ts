// Turning what drivers throw into the SeconetErrors the gRPC server maps to status codes: a
// tool that is not installed or a kernel that lacks a feature is MISSING_TOOL
// (FAILED_PRECONDITION); any other failed command is COMMAND_FAILED with the (secret-masked)
// command in the message; SeconetErrors pass through.

import { SeconetError } from '@seconet/core';
import { CommandError } from '../runner/errors.js';

export function toSeconetError(e: unknown, what: string): SeconetError {
  if (e instanceof SeconetError) return e;
  if (e instanceof CommandError) {
    if (e.kind === 'NotSupported') return new SeconetError('MISSING_TOOL', `${what}: the kernel or tool lacks a feature: ${e.message}`, { cause: e });
    if (e.kind === 'NotFound' && e.exitCode === null && e.signal === null) return new SeconetError('MISSING_TOOL', `${what}: a tool could not be started: ${e.message}`, { cause: e });
    return new SeconetError('COMMAND_FAILED', `${what}: ${e.message}`, { cause: e });
  }
  const tool = (e as { tool?: unknown })?.tool;
  if (typeof tool === 'string') return new SeconetError('MISSING_TOOL', `${what}: ${tool} is not installed (${(e as Error).message})`, { cause: e });
  return new SeconetError('INTERNAL', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
