// What the filter probes share besides the probe namespace (netns/probe-netns.ts).

import type { ProbeContext } from '../driver.js';
import { installedTool } from '../runner/tool-version.js';

/** The first line of a tool's version output (or why it could not be read), "" when the tool is not installed. */
export async function toolVersion(ctx: ProbeContext, argv: readonly [string, ...string[]]): Promise<string> {
  const t = await installedTool(ctx.runner, argv[0], { argv, re: /^\s*(\S.*)$/m, okCodes: [0] });
  return t.installed ? t.version : '';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
