// `seconet report ID -o FILE`: the self-contained HTML report of an experiment.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { SeconetError } from '@seconet/core';
import { act, examples, globals, outFor } from '../command-kit.js';
import { connect } from '../connection.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('write the HTML report of an experiment')
    .argument('[id]', 'experiment id')
    .requiredOption('-o, --output <file>', 'where to write the HTML report')
    .addHelpText('after', examples(['seconet report 01hx3k2 -o report.html']))
    .action(
      act(async (id: string | undefined, opts: { output: string }, cmd: Command) => {
        const out = outFor(cmd);
        if (id === undefined) throw new SeconetError('INVALID_ARGUMENT', 'name the experiment: seconet report ID -o FILE', { field: 'id' });
        const html = await connect(globals(cmd)).report(id);
        const file = resolve(opts.output);
        writeFileSync(file, html);
        out.result({ id, report: file }, file);
        return 0;
      }),
    );
}
