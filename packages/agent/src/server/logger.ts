// The agent's pino logger. Requests are logged with their body at debug level, so every path
// where a secret can sit in a request is redacted here, once, for every log line.

import pino, { type DestinationStream, type Logger } from 'pino';
import type { AgentConfig } from '../config.js';

export const REDACTED = '[redacted]';

/** Log paths that may hold TunnelSecrets or key material. */
export const REDACT_PATHS: readonly string[] = [
  'request.state.tunnel.secrets',
  'request.tunnel.secrets',
  'state.tunnel.secrets',
  'tunnel.secrets',
  'secrets',
  'request.secrets',
  '*.privateKey',
  '*.preSharedKey',
  '*.private_key',
  '*.pre_shared_key',
];

export function createAgentLogger(config: Pick<AgentConfig, 'name' | 'logLevel' | 'logFile'>, destination?: DestinationStream): Logger {
  const dest = destination ?? (config.logFile !== undefined ? pino.destination({ dest: config.logFile, mkdir: true, sync: false }) : pino.destination(1));
  return pino(
    {
      level: config.logLevel,
      base: { agent: config.name, pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    dest,
  );
}
