// Versions of the external tools behind the building blocks, each with the absolute path the
// runner would execute. Results record them, so a number can always be traced to the tool
// that produced it. Tools without a version flag (D-ITG) or whose flag talks to a daemon
// (swanctl) are read from the Debian package database instead; a tool that is not installed
// is left out (the capability list says what is missing and why).

import type { Runner } from '../runner/runner.js';
import { findTool } from '../runner/tools.js';
import { executable, readVersion, versionText } from '../runner/tool-version.js';

export interface ToolVersionInfo {
  readonly tool: string;
  readonly path: string;
  readonly version: string;
}

interface ToolProbe {
  readonly tool: string;
  /** Absolute path when the tool lives outside the runner's directories. */
  readonly path?: string;
  readonly argv?: readonly string[];
  /** Debian package whose version stands for the tool's. */
  readonly dpkg?: string;
  readonly re: RegExp;
}

const V = /(\d+\.\d+(?:\.\d+)*)/;

export const TOOL_PROBES: readonly ToolProbe[] = [
  { tool: 'ip', argv: ['-V'], re: /iproute2-([\w.]+)/ },
  { tool: 'tc', argv: ['-V'], re: /iproute2-([\w.]+)/ },
  { tool: 'iptables', argv: ['--version'], re: /v(\d[\w.]*(?: \([\w_]+\))?)/ },
  { tool: 'iptables-legacy', argv: ['--version'], re: /v(\d[\w.]*)/ },
  { tool: 'nft', argv: ['--version'], re: /v(\d[\w.]*)/ },
  { tool: 'bpftool', argv: ['version'], re: /v(\d[\w.]*)/ },
  { tool: 'clang', argv: ['--version'], re: V },
  { tool: 'ethtool', argv: ['--version'], re: V },
  { tool: 'ovs-vswitchd', argv: ['--version'], re: V },
  { tool: 'ovsdb-server', argv: ['--version'], re: V },
  { tool: 'wireguard-go', argv: ['--version'], re: /v([\d.]+)/ },
  { tool: 'wg', argv: ['--version'], re: /v([\d.]+)/ },
  { tool: 'charon', path: '/usr/lib/ipsec/charon', dpkg: 'strongswan-charon', re: /^(.+)$/ },
  { tool: 'swanctl', dpkg: 'strongswan-swanctl', re: /^(.+)$/ },
  { tool: 'openvpn', argv: ['--version'], re: /OpenVPN ([\d.]+\w*)/ },
  { tool: 'tincd', argv: ['--version'], re: /version ([\d.]+\w*)/ },
  { tool: 'ping', argv: ['-V'], re: /iputils[- ]?(\w+)/ },
  { tool: 'iperf3', argv: ['--version'], re: /iperf ([\d.]+)/ },
  { tool: 'ITGSend', dpkg: 'd-itg', re: /^(.+)$/ },
  { tool: 'ITGRecv', dpkg: 'd-itg', re: /^(.+)$/ },
  { tool: 'uperf', argv: ['-V'], re: V },
  { tool: 'openssl', argv: ['version'], re: /OpenSSL ([\w.]+)/ },
];


async function versionOf(runner: Runner, p: ToolProbe, path: string): Promise<string> {
  // Some tools print their version on stderr or exit non-zero after printing it (okCodes 0-2).
  const source = p.dpkg !== undefined ? { dpkg: p.dpkg, re: p.re } : { argv: [path, ...(p.argv ?? [])], re: p.re, timeoutMs: 5000 };
  return versionText(await readVersion(runner, source));
}

/** Installed tools with their versions, probed in parallel. */
export async function probeToolVersions(runner: Runner, probes: readonly ToolProbe[] = TOOL_PROBES): Promise<ToolVersionInfo[]> {
  const found = probes
    .map((p) => ({ p, path: p.path !== undefined ? (executable(p.path) ? p.path : null) : findTool(p.tool) }))
    .filter((x): x is { p: ToolProbe; path: string } => x.path !== null);
  return Promise.all(found.map(async ({ p, path }) => ({ tool: p.tool, path, version: await versionOf(runner, p, path) })));
}
