// Versions of the workload tools, asked once per agent process (results record the version
// that produced them). Each tool has its own way of saying it; the first version-looking word
// of that output is kept.

import type { Runner } from '../runner/runner.js';

const VERSION_ARGV: Readonly<Record<string, readonly string[]>> = {
  ping: ['-V'],
  iperf3: ['--version'],
  uperf: ['-V'],
  ITGSend: ['-h'],
  ITGRecv: ['-h'],
  ITGDec: ['-h'],
  nginx: ['-v'],
};

const cache = new Map<string, Promise<string>>();

export function parseVersion(tool: string, text: string): string {
  const patterns = [/iputils[- ](\S+)/, /iperf (\d+\.\d+(?:\.\d+)?)/, /version (\d+\.\d+(?:\.\d+)?(?: \(r\d+\))?)/i, /(\d+\.\d+(?:\.\d+)?)/];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return tool === 'ping' ? `iputils ${m[1]}` : m[1]!;
  }
  return '';
}

export function toolVersion(runner: Runner, tool: string): Promise<string> {
  let p = cache.get(tool);
  if (p === undefined) {
    p = runner
      .run([tool, ...(VERSION_ARGV[tool] ?? ['--version'])], { timeoutMs: 5000, okCodes: [0, 1, 2, 255] })
      .then((r) => parseVersion(tool, `${r.stdout}\n${r.stderr}`))
      .catch(() => '');
    cache.set(tool, p);
  }
  return p;
}

/** For tests. */
export function resetToolVersions(): void {
  cache.clear();
}
