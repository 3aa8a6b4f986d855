// The agent daemon's entry point without the seconet CLI:
//   node --import=tsx --conditions=seconet-source packages/agent/src/server/main.ts --config FILE
// (or node dist/server/main.js --config FILE). SIGTERM/SIGINT stop it gracefully, within
// STOP_BOUND_MS whatever is stuck; a second signal exits at once. SIGHUP probes capabilities
// and tool versions again. Exit codes follow the core error registry.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, isSeconetError, onStopSignals, STOP_BOUND_MS } from '@seconet/core';
import { loadAgentConfig } from '../config.js';
import { startAgent, type RunningAgent } from './server.js';

/** How long running calls may finish after SIGTERM before their connections are cut. */
const STOP_GRACE_MS = STOP_BOUND_MS / 2;

/** Runs the agent until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runAgentDaemon(configFile: string): Promise<number> {
  let agent: RunningAgent;
  try {
    agent = await startAgent(loadAgentConfig(configFile), { shutdownGraceMs: STOP_GRACE_MS });
  } catch (e) {
    process.stderr.write(`seconet agent: ${e instanceof Error ? e.message : String(e)}\n`);
    return isSeconetError(e) ? ErrorCodes[e.code].exit : 1;
  }
  process.on('SIGHUP', () => {
    agent.log.info('SIGHUP: probing capabilities again');
    agent.refreshInfo().catch((err: unknown) => agent.log.error({ err }, 'capability refresh failed'));
  });
  // Bounded: a frozen controller or a stuck tool must not make SIGTERM hang (core/stop-bound.ts).
  return onStopSignals(() => agent.stop(), { log: agent.log });
}

function parseArgs(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith('--config='));
  return eq?.slice('--config='.length);
}

/** Whether this module is the script node runs; through a symlink too (Node loads modules by their real path). */
function isEntry(script: string | undefined): boolean {
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntry(process.argv[1])) {
  const file = parseArgs(process.argv.slice(2));
  if (file === undefined) {
    process.stderr.write('usage: main.ts --config FILE\n');
    process.exit(2);
  }
  void runAgentDaemon(file).then((code) => {
    process.exitCode = code;
    // gRPC and pino handles are closed by stop(); exit explicitly in case a tool's pipe lingers.
    setTimeout(() => process.exit(code), 200).unref();
  });
}
