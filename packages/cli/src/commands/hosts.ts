// `seconet hosts check`: before installing anything, connect to every host of an Ansible
// inventory over SSH (keys only, host keys from known_hosts) and report its kernel and which
// building blocks and tools it can offer. The same inventory the roles use (ansible/).

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { SeconetError, isSeconetError, ErrorCodes } from '@seconet/core';
import { checkHost, openSsh, type HostReport, type SshTarget } from '@seconet/controller';
import { act, examples, outFor } from '../command-kit.js';
import { table } from '../output.js';

interface InventoryNode {
  hosts?: Record<string, Record<string, unknown> | null>;
  vars?: Record<string, unknown>;
  children?: Record<string, InventoryNode | null>;
}

/** Hosts of an Ansible YAML inventory (optionally one group), with their merged variables. */
export function inventoryHosts(text: string, group?: string): Array<{ name: string; vars: Record<string, unknown> }> {
  const doc = parse(text) as Record<string, InventoryNode | null> | null;
  if (!doc || typeof doc !== 'object') throw new SeconetError('INVALID_ARGUMENT', 'inventory: not a YAML inventory (expected a mapping with "all:")', { field: 'inventory' });
  const out = new Map<string, Record<string, unknown>>();
  const walk = (node: InventoryNode | null | undefined, inherited: Record<string, unknown>, inGroup: boolean, name: string): void => {
    if (!node) return;
    const vars = { ...inherited, ...(node.vars ?? {}) };
    const selected = inGroup || group === undefined || name === group;
    if (selected) for (const [h, hv] of Object.entries(node.hosts ?? {})) out.set(h, { ...(out.get(h) ?? {}), ...vars, ...(hv ?? {}) });
    for (const [child, c] of Object.entries(node.children ?? {})) walk(c, vars, selected && group !== undefined, child);
  };
  for (const [name, node] of Object.entries(doc)) walk(node, {}, false, name);
  return [...out].map(([name, vars]) => ({ name, vars }));
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : fallback;
}

export function hostsCommand(): Command {
  const hosts = new Command('hosts').description('inspect hosts over SSH before installing agents');
  hosts
    .command('check')
    .description("report each inventory host's kernel, tools and the building blocks it can offer")
    .requiredOption('-i, --inventory <file>', 'Ansible YAML inventory (the one the roles use)')
    .option('--group <name>', 'only hosts of this group', 'seconet_agents')
    .option('--all-groups', 'every host of the inventory')
    .option('--user <name>', 'SSH user when the inventory sets no ansible_user', 'root')
    .option('--identity <file>', 'private key when the inventory sets no ansible_ssh_private_key_file', join(homedir(), '.ssh/id_ed25519'))
    .option('--known-hosts <file>', 'known_hosts file; unknown host keys are refused', join(homedir(), '.ssh/known_hosts'))
    .option('--proxy-command <argv...>', 'carry SSH over this command\'s stdio (like OpenSSH ProxyCommand, argv form)')
    .addHelpText('after', examples(['seconet hosts check -i ansible/inventory/production.yml', 'seconet hosts check -i inv.yml --all-groups --json']))
    .action(
      act(async (opts: { inventory: string; group: string; allGroups?: boolean; user: string; identity: string; knownHosts: string; proxyCommand?: string[] }, cmd: Command) => {
        const out = outFor(cmd);
        let text: string;
        try {
          text = readFileSync(opts.inventory, 'utf8');
        } catch (e) {
          throw new SeconetError('INVALID_ARGUMENT', `--inventory: cannot read ${opts.inventory}: ${(e as Error).message}`, { field: 'inventory' });
        }
        const list = inventoryHosts(text, opts.allGroups ? undefined : opts.group);
        if (list.length === 0) throw new SeconetError('INVALID_ARGUMENT', `--inventory: no hosts${opts.allGroups ? '' : ` in group ${opts.group} (use --group or --all-groups)`}`, { field: 'inventory' });
        const results: Array<{ host: string; report?: HostReport; error?: { code: string; message: string } }> = [];
        await Promise.all(
          list.map(async ({ name, vars }) => {
            const target: SshTarget = {
              name,
              host: str(vars['ansible_host'], name),
              port: Number(str(vars['ansible_port'], '22')),
              username: str(vars['ansible_user'], opts.user),
              identityFile: str(vars['ansible_ssh_private_key_file'], opts.identity),
              knownHostsFile: opts.knownHosts,
              proxyCommand: opts.proxyCommand,
            };
            try {
              const s = await openSsh(target);
              try {
                results.push({ host: name, report: await checkHost(s) });
              } finally {
                s.close();
              }
            } catch (e) {
              results.push({ host: name, error: isSeconetError(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: String(e) } });
            }
          }),
        );
        results.sort((a, b) => a.host.localeCompare(b.host));
        const human = results
          .map((r) => {
            if (!r.report) return `${r.host}: ${r.error?.code}: ${r.error?.message}`;
            const rows = [['block', 'variant', 'available', 'why not'], ...r.report.blocks.map((b) => [`${b.category}/${b.kind}`, b.variant, b.available ? 'yes' : 'no', b.reason])];
            const missingTools = r.report.tools.filter((x) => x.path === '').map((x) => x.tool);
            return `${r.host}: ${r.report.os}, kernel ${r.report.kernel}, node ${r.report.nodeVersion || 'missing'}${r.report.root ? '' : ' (not root: probes used sudo -n)'}\n` + `missing tools: ${missingTools.join(', ') || 'none'}\n` + table(rows);
          })
          .join('\n\n');
        out.result({ hosts: results }, human);
        return results.some((r) => r.error) ? ErrorCodes.SSH_FAILED.exit : 0;
      }),
    );
  return hosts;
}
