// `seconet lab up|down|status`: the local lab (see lab/lab-up.ts for what it starts).

import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { ExecRunner } from '@seconet/agent';
import { ErrorCodes, SeconetError } from '@seconet/core';
import { act, examples, outFor } from '../command-kit.js';
import { takeLabDown } from '../lab/lab-down.js';
import { labStatus } from '../lab/lab-status.js';
import { labUpDetailed } from '../lab/lab-up.js';
import { labDir, labHostKind, readLabState } from '../lab/lab-state.js';
import { DEFAULT_VM_MEMORY_MIB, type VmAccel, type VmLabOptions } from '../lab/vm-lab.js';
import { superviseLab } from '../lab/lab-supervise.js';
import { table } from '../output.js';

export function labCommand(): Command {
  const lab = new Command('lab').description('the local lab: hosts as network namespaces, agents, Redis, controller and API on this machine');
  lab
    .command('up')
    .description('bring the lab up, or repair it: restarts what died and keeps its results and queued experiments; prints the API URL and the token file')
    .option('--hosts <n>', 'number of hosts', (v) => Number(v), 2)
    .option('--fresh', 'delete the previous lab with all its results and start an empty one (asks first)')
    .option('-y, --yes', 'with --fresh: do not ask')
    .option('--timeout <seconds>', 'how long to wait for the agents to become healthy', (v) => Number(v), 90)
    .option('--vm', 'hosts are QEMU guests with their own stock kernel, agents installed by the seconet_agent Ansible role over SSH (docs/vm-lab.md); 2-4 hosts')
    .option('--memory <MiB>', 'with --vm: memory per guest', (v) => Number(v), DEFAULT_VM_MEMORY_MIB)
    .option('--accel <kind>', 'with --vm: kvm, tcg (software emulation) or auto (kvm when usable)', 'auto')
    .option('--boot-timeout <seconds>', 'with --vm: how long the guests may take to boot and answer SSH', (v) => Number(v), 240)
    .addHelpText('after', examples(['seconet lab up', 'seconet lab up --hosts 3 --json', 'seconet lab up --vm --hosts 2 --json', 'seconet lab up --fresh --yes', 'curl -H "Authorization: Bearer $(cat /var/lib/seconet/lab/token)" http://127.0.0.1:PORT/v1/agents']))
    .action(
      act(async (opts: { hosts: number; timeout: number; fresh?: boolean; yes?: boolean; vm?: boolean; memory: number; accel: string; bootTimeout: number }, cmd: Command) => {
        const out = outFor(cmd);
        if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new SeconetError('INVALID_ARGUMENT', '--timeout must be a positive number of seconds', { field: 'timeout' });
        const vm = opts.vm === true ? vmOptions(opts) : undefined;
        if (opts.fresh === true && opts.yes !== true) await confirmFresh();
        const { state, action, restarted } = await labUpDetailed({ hosts: opts.hosts, runner: new ExecRunner(), say: (l) => out.info(l), timeoutMs: opts.timeout * 1000, fresh: opts.fresh === true, ...(vm ? { vm } : {}) });
        out.result(
          {
            id: state.id, action, restarted, apiUrl: state.apiUrl, tokenFile: state.tokenFile, dir: state.dir, hostKind: labHostKind(state),
            ...(state.vm ? { vm: { netns: state.vm.netns, kernelRelease: state.vm.kernelRelease, memoryMiB: state.vm.memoryMiB, bootSeconds: state.vm.bootSeconds, provisionSeconds: state.vm.provisionSeconds, sshKey: state.vm.clientKey, knownHosts: state.vm.knownHosts } } : {}),
            hosts: state.hosts.map((h) => ({ name: h.name, netns: h.netns, address: h.address, ...(state.vm ? { underlayAddress: h.underlayAddress, sshPort: h.sshPort, kernelRelease: h.kernelRelease } : {}) })),
          },
          `lab ${state.id} is up${action === 'repaired' ? ` (repaired: restarted ${restarted.join(', ')})` : ''}${state.vm ? ` (${state.vm.hostKind}, kernel ${state.vm.kernelRelease})` : ''}\nAPI:        ${state.apiUrl}\ndashboard:  ${state.apiUrl}/ui/\ntoken file: ${state.tokenFile}\nhosts:      ${state.hosts.map((h) => (state.vm ? `${h.name} (agent ${h.address}, ssh 127.0.0.1:${h.sshPort}, underlay ${h.underlayAddress})` : `${h.name} (${h.netns})`)).join(', ')}`,
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
    .command('supervise')
    .description('restart the lab\'s daemons when they exit (lab up starts this; it ends with lab down)')
    .option('--interval <ms>', 'how often to check', (v) => Number(v), 1000)
    .action(
      act(async (opts: { interval: number }) => {
        if (!Number.isFinite(opts.interval) || opts.interval < 100) throw new SeconetError('INVALID_ARGUMENT', '--interval must be at least 100 ms', { field: 'interval' });
        const stop = new AbortController();
        process.on('SIGTERM', () => stop.abort());
        process.on('SIGINT', () => stop.abort());
        const log = (l: string): void => void process.stdout.write(`${new Date().toISOString()} ${l}\n`);
        log(`supervising the lab in ${labDir()} (pid ${process.pid})`);
        await superviseLab({ runner: new ExecRunner(), dir: labDir(), signal: stop.signal, intervalMs: opts.interval, log });
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
            `controller ${yes(s.controller)}, redis ${yes(s.redis)}, supervisor ${yes(s.supervisor)}, hosts: ${s.hostKind}`,
            table([['host', 'netns', 'agent', 'process', 'healthy'], ...(s.hosts ?? []).map((h) => [h.name, h.netns, h.address, yes(h.process), yes(h.healthy)])]),
          ].join('\n'),
        );
        return s.running ? 0 : ErrorCodes.UNAVAILABLE.exit;
      }),
    );
  return lab;
}

/** `lab up --vm` options, validated at the edge. */
export function vmOptions(o: { memory: number; accel: string; bootTimeout: number }): VmLabOptions {
  if (!['auto', 'kvm', 'tcg'].includes(o.accel)) throw new SeconetError('INVALID_ARGUMENT', `--accel ${JSON.stringify(o.accel)}: use kvm, tcg or auto`, { field: 'accel' });
  if (!Number.isInteger(o.memory)) throw new SeconetError('INVALID_ARGUMENT', '--memory must be a whole number of MiB (512 to 8192)', { field: 'memory' });
  if (!Number.isFinite(o.bootTimeout) || o.bootTimeout <= 0) throw new SeconetError('INVALID_ARGUMENT', '--boot-timeout must be a positive number of seconds', { field: 'bootTimeout' });
  return { memoryMiB: o.memory, accel: o.accel as VmAccel, bootTimeoutMs: o.bootTimeout * 1000 };
}

/** --fresh deletes results: ask on a terminal, refuse without one unless --yes. */
async function confirmFresh(): Promise<void> {
  const state = readLabState();
  if (state === undefined) return;
  const what = `lab ${state.id} and every result in ${state.dir}`;
  if (!process.stdin.isTTY) throw new SeconetError('INVALID_ARGUMENT', `--fresh deletes ${what}; add --yes to confirm without a terminal`, { field: 'fresh' });
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`--fresh deletes ${what}. Type "yes" to go on: `)).trim().toLowerCase();
    if (answer !== 'yes') throw new SeconetError('CANCELLED', 'lab up --fresh: not confirmed; nothing was deleted', { field: 'fresh' });
  } finally {
    rl.close();
  }
}
