// `seconet status [ID]`: all experiments, or one with its progress; `seconet cancel ID`;
// `seconet resume ID` (an experiment that paused on a full store disk).

import { Command } from 'commander';
import type { ExperimentSummary } from '@seconet/controller';
import { act, examples, globals, outFor } from '../command-kit.js';
import { connect } from '../connection.js';
import { runsText, table } from '../output.js';

function line(e: ExperimentSummary): string[] {
  return [e.id, e.name, e.state, runsText(e.progress), String(e.progress.runsFailed), e.createdAt];
}

const HEAD = ['id', 'name', 'state', 'runs', 'failed', 'created'];

export function statusCommand(): Command {
  return new Command('status')
    .description('show experiments (all, or one with its progress)')
    .argument('[id]', 'experiment id')
    .addHelpText('after', examples(['seconet status', 'seconet status 01hx3k2 --json']))
    .action(
      act(async (id: string | undefined, _opts: object, cmd: Command) => {
        const out = outFor(cmd);
        const api = connect(globals(cmd));
        if (id === undefined) {
          const list = await api.list();
          out.result(list, list.length === 0 ? 'no experiments' : table([HEAD, ...list.map(line)]));
          return 0;
        }
        const e = await api.get(id);
        const extra = [
          e.current ? `now: cell ${e.current.cell}, ${e.current.workload}, repetition ${e.current.repetition}` : '',
          e.error ? `${e.state === 'paused' ? 'paused' : 'error'}: ${e.error}` : '',
          e.state === 'paused' ? `free space on the controller's store, then: seconet resume ${e.id}` : '',
        ].filter((s) => s.length > 0);
        out.result(e, [table([HEAD, line(e)]), ...extra].join('\n'));
        return 0;
      }),
    );
}

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel an experiment; finished runs stay')
    .argument('<id>', 'experiment id')
    .action(
      act(async (id: string, _opts: object, cmd: Command) => {
        const out = outFor(cmd);
        const e = await connect(globals(cmd)).cancel(id);
        out.result(e, `${e.id} ${e.state}`);
        return 0;
      }),
    );
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description('resume an experiment that paused (its store disk was full); the sweep goes on from the first run it lacks')
    .argument('<id>', 'experiment id')
    .addHelpText('after', examples(['seconet resume fill-disk-3fa2c1']))
    .action(
      act(async (id: string, _opts: object, cmd: Command) => {
        const out = outFor(cmd);
        const e = await connect(globals(cmd)).resume(id);
        out.result(e, `${e.id} ${e.state}`);
        return 0;
      }),
    );
}
