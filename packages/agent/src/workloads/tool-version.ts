// Versions of the workload tools, read through the agent's one version reader (results record
// the version that produced them). Each tool has its own way of saying it; the first version-looking word
// of that output is kept.

import type { Runner } from '../runner/runner.js';
import { installedTool } from '../runner/tool-version.js';

const VERSION_ARGV: Readonly<Record<string, readonly string[]>> = {
  ping: ['-V'],
  iperf3: ['--version'],
  uperf: ['-V'],
  ITGSend: ['-h'],
  ITGRecv: ['-h'],
  ITGDec: ['-h'],
  nginx: ['-v'],
};

export function parseVersion(tool: string, text: string): string {
  const patterns = [/iputils[- ](\S+)/, /iperf (\d+\.\d+(?:\.\d+)?)/, /version (\d+\.\d+(?:\.\d+)?(?: \(r\d+\))?)/i, /(\d+\.\d+(?:\.\d+)?)/];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return tool === 'ping' ? `iputils ${m[1]}` : m[1]!;
  }
  return '';
}

/** The tool's version; '' when it is not installed, `unknown (<why>)` when it could not be read. */
export async function toolVersion(runner: Runner, tool: string): Promise<string> {
  const t = await installedTool(runner, tool, { argv: [tool, ...(VERSION_ARGV[tool] ?? ['--version'])], timeoutMs: 5000, okCodes: [0, 1, 2, 255], parse: (text) => parseVersion(tool, text) });
  return t.installed ? t.version : '';
}
