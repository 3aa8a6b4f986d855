// The agent daemon's entry point without the seconet CLI:
//   node --import=tsx --conditions=seconet-source packages/agent/src/server/main.ts --config FILE
// (or node dist/server/main.js --config FILE). SIGTERM/SIGINT stop it gracefully; a second
// signal exits at once. SIGHUP probes capabilities and tool versions again. Exit codes follow
// the core error registry.

import { pathToFileURL } from 'node:url';
import { ErrorCodes, isSeconetError } from '@seconet/core';
import { loadAgentConfig } from '../config.js';
import { startAgent, type RunningAgent } from './server.js';

/** Runs the agent until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runAgentDaemon(configFile: string): Promise<number> {
  let agent: RunningAgent;
  try {
    agent = await startAgent(loadAgentConfig(configFile));
  } catch (e) {
    process.stderr.write(`seconet agent: ${e instanceof Error ? e.message : String(e)}\n`);
    return isSeconetError(e) ? ErrorCodes[e.code].exit : 1;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (++signals > 1) process.exit(130);
      agent.log.info({ signal: sig }, 'signal received');
      agent.stop().then(
        () => resolve(0),
        (err: unknown) => {
          agent.log.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => {
      agent.log.info('SIGHUP: probing capabilities again');
      agent.refreshInfo().catch((err: unknown) => agent.log.error({ err }, 'capability refresh failed'));
    });
  });
}

function parseArgs(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith('--config='));
  return eq?.slice('--config='.length);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
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
