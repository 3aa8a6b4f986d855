// `seconet results ID --format csv|json [-o FILE]`: the long-format result rows.

import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { act, examples, globals, outFor } from '../command-kit.js';
import { connect } from '../connection.js';

export function resultsCommand(): Command {
  return new Command('results')
    .description('fetch the results, one row per run x pair x metric')
    .argument('<id>', 'experiment id')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText('after', examples(['seconet results 01hx3k2 --format csv > results.csv', 'seconet results 01hx3k2 --format json -o results.json']))
    .action(
      act(async (id: string, opts: { format: 'csv' | 'json'; output?: string }, cmd: Command) => {
        const out = outFor(cmd);
        const api = connect(globals(cmd));
        const text = opts.format === 'csv' ? await api.resultsCsv(id) : `${JSON.stringify(await api.resultsJson(id), null, 2)}\n`;
        if (opts.output !== undefined) {
          writeFileSync(opts.output, text);
          out.result({ id, file: opts.output, format: opts.format }, opts.output);
        } else process.stdout.write(text);
        return 0;
      }),
    );
}
