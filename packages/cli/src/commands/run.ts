// `seconet run FILE`: the one-shot path. Brings the local lab up unless one is running (or
// --api names a controller; with --vm, a running lab must be a VM lab), submits the spec, follows it with a progress bar, writes the HTML
// report and the CSV results next to each other, prints the report's path, and takes down the
// lab it started (unless --keep-lab). Exit 0 only when the experiment succeeded. --duration and
// --repetitions shorten any spec for a smoke run (spec-file.ts), checked before a lab is started.

import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { ExecRunner } from '@seconet/agent';
import { SeconetError } from '@seconet/core';
import { act, examples, globals, outFor } from '../command-kit.js';
import { connect } from '../connection.js';
import { experimentExit, follow } from '../follow.js';
import { takeLabDown } from '../lab/lab-down.js';
import { labUpDetailed } from '../lab/lab-up.js';
import { DEFAULT_VM_MEMORY_MIB } from '../lab/vm-lab.js';
import { vmOptions } from './lab.js';
import { readLabState, type LabState } from '../lab/lab-state.js';
import { DURATION_HELP, readSpecFile, REPETITIONS_HELP, type OverrideOptions } from '../spec-file.js';
import { labStatus } from '../lab/lab-status.js';

/** The report's directory must exist and be writable (the report and the CSV go there). */
export function checkOutputDir(report: string): void {
  const dir = dirname(report);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
    if (isDir) accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SeconetError('INVALID_ARGUMENT', `--output ${report}: the directory ${dir} does not exist; create it (mkdir -p ${dir}) or choose another path`, { field: 'output' });
    throw new SeconetError('INVALID_ARGUMENT', `--output ${report}: cannot write in ${dir} (${code ?? (e as Error).message})`, { field: 'output', cause: e });
  }
  if (!isDir) throw new SeconetError('INVALID_ARGUMENT', `--output ${report}: ${dir} is not a directory`, { field: 'output' });
}

/**
 * --vm asks for hosts with their own kernels: a running namespace lab does not give them, and
 * measuring there instead would put figures of the wrong kind under the experiment. Without
 * --vm the running lab is used whatever its kind (its results say which).
 */
export function runningLabMismatch(hostKind: string | undefined, vm: boolean): SeconetError | undefined {
  if (!vm || hostKind === undefined || hostKind.startsWith('vm-')) return undefined;
  return new SeconetError('UNSUPPORTED', `--vm: the lab that is running is a namespace lab (${hostKind}), not a VM lab; take it down first (seconet lab down), or run without --vm to measure on it`, { field: 'vm' });
}

export function runCommand(): Command {
  return new Command('run')
    .description('run an experiment end to end on the local lab and write its report')
    .argument('<file>', 'the spec file')
    .option('--hosts <n>', 'hosts of the lab, when this command brings it up', (v) => Number(v), 2)
    .option('-o, --output <file>', 'report path (default: ./seconet-report-<id>.html)')
    .option('--keep-lab', 'leave a lab this command started running')
    .option('--duration <seconds>', DURATION_HELP)
    .option('--repetitions <n>', REPETITIONS_HELP)
    .option('--vm', 'run on a VM lab (QEMU guests with their own kernels, docs/vm-lab.md): the running one, or one brought up (and taken down) for this run; refused when a namespace lab runs')
    .option('--memory <MiB>', 'with --vm: memory per guest', (v) => Number(v), DEFAULT_VM_MEMORY_MIB)
    .option('--accel <kind>', 'with --vm: kvm, tcg or auto', 'auto')
    .option('--boot-timeout <seconds>', 'with --vm: how long the guests may take to boot', (v) => Number(v), 240)
    .addHelpText('after', examples(['seconet run examples/quickstart.yaml', 'seconet run examples/cni-recipes.yaml --duration 2 --repetitions 1   # a smoke run', 'seconet run examples/seconetbench-multi-host.yaml -o vpn.html --keep-lab']))
    .action(
      act(async (file: string, opts: { hosts: number; output?: string; keepLab?: boolean; vm?: boolean; memory: number; accel: string; bootTimeout: number } & OverrideOptions, cmd: Command) => {
        const out = outFor(cmd);
        const g = globals(cmd);
        const spec = readSpecFile(file, opts);
        // Checked before anything runs: a report that cannot be written after a night of runs
        // would otherwise fail at the end, with the lab (and its store) about to be taken down.
        if (opts.output !== undefined) checkOutputDir(resolve(opts.output));
        const vm = opts.vm === true ? vmOptions(opts) : undefined;
        const runner = new ExecRunner();
        let started: LabState | undefined;
        if (g.api === undefined && process.env['SECONET_API'] === undefined) {
          const status = await labStatus(readLabState());
          if (status.running) {
            const mismatch = runningLabMismatch(status.hostKind, vm !== undefined);
            if (mismatch !== undefined) throw mismatch;
            if (vm) out.info(`running on the VM lab that is up (${status.hostKind}, ${status.hosts?.length ?? 0} hosts); it stays up`);
          } else {
            out.info(`bringing the local ${vm ? 'VM ' : ''}lab up`);
            const up = await labUpDetailed({ hosts: opts.hosts, runner, say: (l) => out.info(`  ${l}`), ...(vm ? { vm } : {}) });
            // A lab that existed (repaired here) holds someone's results: only a lab this command created is taken down.
            if (up.action === 'created') started = up.state;
          }
        }
        // Ctrl-C (or SIGTERM) stops following, cancels the experiment and takes down a lab this
        // command started; a second one exits at once.
        const interrupt = new AbortController();
        let signals = 0;
        const onSignal = (): void => {
          if (++signals > 1) process.exit(130);
          out.info('interrupted: cancelling the experiment');
          interrupt.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const api = connect(g);
          const { id } = await api.submit(spec.text, spec.contentType);
          out.info(`submitted ${id}`);
          let exp;
          try {
            exp = await follow(api, id, { progress: !out.json, signal: interrupt.signal });
          } catch (e) {
            if (interrupt.signal.aborted) await api.cancel(id).catch(() => undefined);
            throw e;
          }
          if (exp.state === 'paused') out.info(`paused: ${exp.error ?? ''}\nfree space on the controller's store, then: seconet resume ${id} (the lab stays up with --keep-lab)`);
          const report = resolve(opts.output ?? `seconet-report-${id}.html`);
          const csv = report.replace(/\.html?$/, '') + '.csv';
          try {
            writeFileSync(report, await api.report(id));
            writeFileSync(csv, await api.resultsCsv(id));
          } catch (e) {
            // The results live in the lab's store: keep the lab so they are not lost with it.
            if (started !== undefined) {
              started = undefined;
              out.info(`the lab stays up, with the results: seconet report ${id} -o FILE and seconet results ${id} -o FILE, then seconet lab down`);
            }
            throw e;
          }
          out.result({ id, state: exp.state, progress: exp.progress, report, results: csv }, `${exp.state}: ${exp.progress.runsDone} runs done, ${exp.progress.runsFailed} failed\nreport:  ${report}\nresults: ${csv}`);
          return experimentExit(exp);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (started !== undefined && opts.keepLab !== true) {
            out.info('taking the lab down');
            await takeLabDown(runner, started);
          }
        }
      }),
    );
}
