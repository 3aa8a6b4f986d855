// A controller in its own process, for tests that SIGKILL it:
//   node --import=tsx --conditions=seconet-source test/helpers/controller-child.ts CONFIG [SPEC.json]
// Prints {"id": ...} after submitting SPEC (when given), then "ready"; stops on SIGTERM.
import { readFileSync } from 'node:fs';
import { loadControllerConfig, startController } from '@seconet/controller';

const [configFile, specFile] = process.argv.slice(2);
if (configFile === undefined) {
  process.stderr.write('usage: controller-child.ts CONFIG [SPEC.json]\n');
  process.exit(2);
}
const ctl = await startController(loadControllerConfig(configFile));
if (specFile !== undefined) {
  const { id } = await ctl.service.submit(JSON.parse(readFileSync(specFile, 'utf8')) as unknown);
  process.stdout.write(`${JSON.stringify({ id })}\n`);
}
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void ctl.stop().then(() => process.exit(0));
});
