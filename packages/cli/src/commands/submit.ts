// `seconet submit FILE [--follow] [--dry-run]`: queue an experiment (or show its plan).

import { Command } from 'commander';
import { act, examples, globals, outFor } from '../command-kit.js';
import { connect } from '../connection.js';
import { experimentExit, follow } from '../follow.js';
import { table } from '../output.js';
import { DURATION_HELP, readSpecFile, REPETITIONS_HELP, type OverrideOptions } from '../spec-file.js';

export function submitCommand(): Command {
  return new Command('submit')
    .description('submit an experiment spec (YAML or JSON) to the controller')
    .argument('<file>', 'the spec file ("-" reads stdin)')
    .option('-f, --follow', 'follow the experiment until it ends; exit 0 only if it succeeded')
    .option('--dry-run', 'show the plan (cells, runs, skipped cells and why, estimated duration) without queueing')
    .option('--duration <seconds>', DURATION_HELP)
    .option('--repetitions <n>', REPETITIONS_HELP)
    .addHelpText('after', examples(['seconet submit examples/quickstart.yaml', 'seconet submit spec.yaml --follow --json', 'seconet submit spec.yaml --dry-run', 'seconet submit examples/policy-scalability.yaml --duration 1 --repetitions 1 --follow']))
    .action(
      act(async (file: string, opts: { follow?: boolean; dryRun?: boolean } & OverrideOptions, cmd: Command) => {
        const out = outFor(cmd);
        const api = connect(globals(cmd));
        const spec = readSpecFile(file, opts);
        if (opts.dryRun === true) {
          const plan = await api.plan(spec.text, spec.contentType);
          const where = (c: Record<string, unknown>): string => [c['network'], c['tunnel'], c['filter'], `c${String(c['containers'])}`, `r${String(c['rules'])}`].join('/');
          const cells = plan.cells.map((c) => `  cell ${where(c)}: path MTU ${c['pathMtu'] === undefined ? 'unknown' : String(c['pathMtu'])}`);
          const skipped = plan.skipped.map((s) => `  skipped ${where(s.cell)}${s.workload === undefined ? '' : ` ${s.workload}`}: ${s.reason}`);
          const notes = (plan.notes ?? []).map((n) => `  note: ${n}`);
          out.result(plan, [`${plan.cells.length} cells, ${plan.runsTotal} runs, about ${Math.round(plan.estimatedSeconds / 60)} min`, ...cells, ...skipped, ...notes].join('\n'));
          return 0;
        }
        const { id } = await api.submit(spec.text, spec.contentType);
        if (opts.follow !== true) {
          out.result({ id }, id);
          return 0;
        }
        out.info(`submitted ${id}`);
        const exp = await follow(api, id, { progress: !out.json });
        if (exp.state === 'paused') out.info(`paused: ${exp.error ?? ''}\nfree space on the controller's store, then: seconet resume ${id}`);
        out.result(exp, table([['id', 'state', 'runs done', 'failed', 'total'], [exp.id, exp.state, String(exp.progress.runsDone), String(exp.progress.runsFailed), String(exp.progress.runsTotal)]]));
        return experimentExit(exp);
      }),
    );
}
