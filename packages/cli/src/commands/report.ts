// `seconet report ID -o FILE`: the self-contained HTML report of an experiment, from the
// controller; `seconet report --bundle FILE -o OUT`: the same report rendered offline from a
// results bundle (another machine, no controller needed).

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { readBundle, renderReport } from '@seconet/controller';
import { SeconetError } from '@seconet/core';
import { act, examples, globals, outFor } from '../command-kit.js';
import { connect } from '../connection.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('write the HTML report of an experiment (from the controller, or offline from a results bundle)')
    .argument('[id]', 'experiment id')
    .requiredOption('-o, --output <file>', 'where to write the HTML report')
    .option('--bundle <file>', 'render offline from a results bundle (*.seconet.json.gz) instead of asking the controller')
    .addHelpText('after', examples(['seconet report 01hx3k2 -o report.html', 'seconet report --bundle night-sweep.seconet.json.gz -o report.html']))
    .action(
      act(async (id: string | undefined, opts: { output: string; bundle?: string }, cmd: Command) => {
        const out = outFor(cmd);
        const file = resolve(opts.output);
        if (opts.bundle !== undefined) {
          if (id !== undefined) throw new SeconetError('INVALID_ARGUMENT', 'give an experiment id or --bundle, not both', { field: 'bundle' });
          const data = await readBundle(opts.bundle);
          writeFileSync(file, await renderReport(data));
          out.result({ id: data.experiment.id, bundle: resolve(opts.bundle), report: file }, file);
          return 0;
        }
        if (id === undefined) throw new SeconetError('INVALID_ARGUMENT', 'name the experiment (seconet report ID -o FILE) or a bundle (--bundle FILE)', { field: 'id' });
        const html = await connect(globals(cmd)).report(id);
        writeFileSync(file, html);
        out.result({ id, report: file }, file);
        return 0;
      }),
    );
}
