// The `seconet` command. One subcommand per file under commands/; every command talks to the
// controller's REST API (or, for `lab`, `agent`, `certs` and `controller`, runs something
// locally), prints text or --json, and exits with the error registry's codes: 0 success,
// 2 invalid input, 8 controller unreachable, 12 experiment failed (docs/errors.md).

import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ErrorCodes } from '@seconet/core';
import { agentCommand } from './commands/agent.js';
import { certsCommand } from './commands/certs.js';
import { labCommand } from './commands/lab.js';
import { reportCommand } from './commands/report.js';
import { resultsCommand } from './commands/results.js';
import { runCommand } from './commands/run.js';
import { cancelCommand, resumeCommand, statusCommand } from './commands/status.js';
import { submitCommand } from './commands/submit.js';
import { examples } from './command-kit.js';
import { controllerCommand } from './commands/controller.js';
import { hostsCommand } from './commands/hosts.js';
import { VERSION } from './version.js';

export { VERSION };


export function buildProgram(): Command {
  const program = new Command('seconet')
    .description('seconet: a distributed testbed for benchmarking secure container networking')
    .version(VERSION)
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--api <url>', 'controller API URL (default: $SECONET_API, else the local lab)')
    .option('--token-file <file>', 'bearer token file (default: $SECONET_TOKEN_FILE, else the local lab\'s)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      examples([
        'seconet run examples/quickstart.yaml          # lab up, run, report, lab down',
        'seconet lab up --hosts 3 --json',
        'seconet submit spec.yaml --follow',
        'seconet status',
        'seconet results ID --format csv > results.csv',
        'seconet report ID -o report.html',
        'seconet lab down',
      ]) + '\nExit codes: 0 success, 2 invalid input, 4 unauthorized, 5 not found, 8 controller unreachable, 12 experiment failed (docs/errors.md).\n',
    );
  for (const c of [labCommand(), runCommand(), submitCommand(), statusCommand(), cancelCommand(), resumeCommand(), resultsCommand(), reportCommand(), controllerCommand(), agentCommand(), certsCommand(), hostsCommand()]) {
    program.addCommand(c);
  }
  program.exitOverride();
  for (const c of program.commands) exitOverrideDeep(c);
  return program;
}

function exitOverrideDeep(c: Command): void {
  c.exitOverride();
  for (const s of c.commands) exitOverrideDeep(s);
}

/** Runs the CLI with user arguments (without node and script); resolves with the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await buildProgram().parseAsync([...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return ErrorCodes.INVALID_ARGUMENT.exit;
    }
    throw e;
  }
  return Number(process.exitCode ?? 0);
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
