// `seconet agent --config FILE`: runs the node agent daemon in the foreground (systemd, the
// lab, or by hand) until SIGTERM/SIGINT, then stops gracefully. `--check` only validates the
// config file and prints what the agent would use, for Ansible and for ops before a restart.

import { Command } from 'commander';
import { hostEnvFromConfig, loadAgentConfig, runAgentDaemon } from '@seconet/agent';
import { makeOut, reportError } from '../output.js';

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the node agent (gRPC over mutual TLS) with the given config file')
    .requiredOption('-c, --config <file>', 'agent config file (YAML or JSON)')
    .option('--check', 'validate the config file and exit')
    .option('--json', 'with --check: print the resolved config as JSON')
    .action(async (opts: { config: string; check?: boolean }, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
      if (opts.check === true) {
        try {
          const c = loadAgentConfig(opts.config);
          const env = hostEnvFromConfig(c);
          makeOut(json).result(
            { config: c, env },
            `agent ${c.name} (prefix ${c.prefix}) would listen on ${c.listen}; state ${c.stateDir}, run ${c.runDir}, bpffs ${env.bpffs}${c.hostNetns ? `, host namespace ${c.hostNetns}` : ''}`,
          );
        } catch (e) {
          process.exitCode = reportError(e, json);
        }
        return;
      }
      process.exitCode = await runAgentDaemon(opts.config);
    });
}
