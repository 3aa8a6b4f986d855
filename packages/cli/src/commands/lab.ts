// `seconet lab up|down|status`: the local lab (see lab/lab-up.ts for what it starts).

import { Command } from 'commander';
import { ExecRunner } from '@seconet/agent';
import { ErrorCodes, SeconetError } from '@seconet/core';
import { act, examples, outFor } from '../command-kit.js';
import { takeLabDown } from '../lab/lab-down.js';
import { labStatus } from '../lab/lab-status.js';
import { labUp } from '../lab/lab-up.js';
import { readLabState } from '../lab/lab-state.js';
import { table } from '../output.js';

export function labCommand(): Command {
  const lab = new Command('lab').description('the local lab: hosts as network namespaces, agents, Redis, controller and API on this machine');
  lab
    .command('up')
    .description('bring the lab up (cleans what a crashed lab left first); prints the API URL and the token file')
    .option('--hosts <n>', 'number of hosts', (v) => Number(v), 2)
    .option('--timeout <seconds>', 'how long to wait for the agents to become healthy', (v) => Number(v), 90)
    .addHelpText('after', examples(['seconet lab up', 'seconet lab up --hosts 3 --json', 'curl -H "Authorization: Bearer $(cat /var/lib/seconet/lab/token)" http://127.0.0.1:PORT/v1/agents']))
    .action(
      act(async (opts: { hosts: number; timeout: number }, cmd: Command) => {
        const out = outFor(cmd);
        if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new SeconetError('INVALID_ARGUMENT', '--timeout must be a positive number of seconds', { field: 'timeout' });
        const state = await labUp({ hosts: opts.hosts, runner: new ExecRunner(), say: (l) => out.info(l), timeoutMs: opts.timeout * 1000 });
        out.result(
          { id: state.id, apiUrl: state.apiUrl, tokenFile: state.tokenFile, dir: state.dir, hosts: state.hosts.map((h) => ({ name: h.name, netns: h.netns, address: h.address })) },
          `lab ${state.id} is up\nAPI:        ${state.apiUrl}\ndashboard:  ${state.apiUrl}/ui/\ntoken file: ${state.tokenFile}\nhosts:      ${state.hosts.map((h) => `${h.name} (${h.netns})`).join(', ')}`,
        );
        return 0;
      }),
    );
  lab
    .command('down')
    .description('stop the controller, the agents and Redis, remove the namespaces and the lab files')
    .action(
      act(async (_opts: object, cmd: Command) => {
        const out = outFor(cmd);
        const state = readLabState();
        if (state === undefined) {
          out.result({ down: true, wasRunning: false }, 'no lab is running');
          return 0;
        }
        const r = await takeLabDown(new ExecRunner(), state);
        out.result({ down: true, wasRunning: true, id: state.id, ...r }, `lab ${state.id} is down (${r.stopped.length} processes stopped, ${r.namespacesRemoved.length} namespaces removed)`);
        return 0;
      }),
    );
  lab
    .command('status')
    .description('show the lab: processes, API, agents (exit 0 only when everything is up)')
    .action(
      act(async (_opts: object, cmd: Command) => {
        const out = outFor(cmd);
        const s = await labStatus(readLabState());
        if (s.id === undefined) {
          out.result(s, 'no lab (seconet lab up starts one)');
          return ErrorCodes.UNAVAILABLE.exit;
        }
        const yes = (b: boolean | null | undefined): string => (b === true ? 'up' : b === false ? 'DOWN' : '?');
        out.result(
          s,
          [
            `lab ${s.id}: ${s.running ? 'running' : 'NOT fully running'}`,
            `API ${s.apiUrl} ${yes(s.api)}, token file ${s.tokenFile}`,
            `controller ${yes(s.controller)}, redis ${yes(s.redis)}`,
            table([['host', 'netns', 'agent', 'process', 'healthy'], ...(s.hosts ?? []).map((h) => [h.name, h.netns, h.address, yes(h.process), yes(h.healthy)])]),
          ].join('\n'),
        );
        return s.running ? 0 : ErrorCodes.UNAVAILABLE.exit;
      }),
    );
  return lab;
}
