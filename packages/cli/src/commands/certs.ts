// `seconet certs`: the PKI for agent/controller mutual TLS, for ops without a PKI of their
// own and for the lab. A thin layer over @seconet/agent's certificate tooling (openssl).
//   seconet certs ca --out DIR                      -> DIR/ca.crt, DIR/ca.key
//   seconet certs issue --ca DIR --name N --kind server|client [--san S ...] --out DIR
//   seconet certs lab --out DIR --agents h1,h2      -> a CA, one server cert per agent, controller
//   seconet certs revoke SERIAL|CERT --deny-list FILE -> appends the serial to an agent deny list
// Keys are EC P-256 and 0600. Rotation of the controller certificate: docs/operations.md.

import { join } from 'node:path';
import { Command, Option } from 'commander';
import { createCa, createLabPki, issueCert, revokeSerial, type CertKind } from '@seconet/agent';
import { makeOut, reportError } from '../output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)];
}

function days(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new Error(`--days ${v}: use a whole number of days from 1 to 36500`);
  return n;
}

async function act(cmd: Command, fn: (json: boolean) => Promise<void>): Promise<void> {
  const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
  try {
    await fn(json);
  } catch (e) {
    process.exitCode = reportError(e, json);
  }
}

export function certsCommand(): Command {
  const certs = new Command('certs').description('create the CA and certificates for agent/controller mutual TLS');

  certs
    .command('ca')
    .description('create a certificate authority (ca.crt, ca.key)')
    .requiredOption('--out <dir>', 'directory to write ca.crt and ca.key to')
    .option('--name <cn>', 'common name of the CA', 'seconet-ca')
    .option('--days <n>', 'validity in days', days, 3650)
    .option('--json', 'print the file paths as JSON')
    .action(async (opts: { out: string; name: string; days: number }, cmd: Command) =>
      act(cmd, async (json) => {
        const ca = await createCa(opts.out, { name: opts.name, days: opts.days });
        makeOut(json).result(ca, `CA certificate: ${ca.cert}\nCA key:         ${ca.key} (keep it off the agents)`);
      }),
    );

  certs
    .command('issue')
    .description('issue a server certificate (an agent) or a client certificate (the controller)')
    .requiredOption('--ca <dir>', 'directory holding ca.crt and ca.key')
    .requiredOption('--name <name>', 'agent name (server) or "controller" (client)')
    .addOption(new Option('--kind <kind>', 'certificate kind').choices(['server', 'client']).makeOptionMandatory())
    .option('--san <name-or-ip>', 'extra DNS name or IP the agent is reached by (repeatable, comma-separated)', collect, [])
    .requiredOption('--out <dir>', 'directory to write NAME.crt and NAME.key to')
    .option('--days <n>', 'validity in days', days, 825)
    .option('--json', 'print the file paths as JSON')
    .action(async (opts: { ca: string; name: string; kind: CertKind; san: string[]; out: string; days: number }, cmd: Command) =>
      act(cmd, async (json) => {
        const ca = { cert: join(opts.ca, 'ca.crt'), key: join(opts.ca, 'ca.key') };
        const c = await issueCert(ca, { name: opts.name, kind: opts.kind, sans: opts.san, days: opts.days }, opts.out);
        makeOut(json).result(c, `${c.kind} certificate: ${c.cert}\nkey:                ${c.key}\ntrusts CA:          ${c.ca}\nserial:             ${c.serial}`);
      }),
    );

  certs
    .command('lab')
    .description('a CA, one server certificate per agent (SANs: name, 127.0.0.1, localhost) and the controller client certificate')
    .requiredOption('--out <dir>', 'directory to write everything to')
    .requiredOption('--agents <names>', 'agent names (comma-separated or repeated)', collect, [])
    .option('--json', 'print the file paths as JSON')
    .action(async (opts: { out: string; agents: string[] }, cmd: Command) =>
      act(cmd, async (json) => {
        const pki = await createLabPki(opts.out, opts.agents);
        makeOut(json).result(pki, `CA: ${pki.ca.cert}\n${Object.values(pki.agents).map((a) => `agent ${a.name}: ${a.cert}`).join('\n')}\ncontroller: ${pki.controller.cert}`);
      }),
    );

  certs
    .command('revoke')
    .description('revoke a client certificate: add its serial to a deny list the agents read (tls.denyList)')
    .argument('<serial-or-cert>', 'the serial (hex, as `certs issue` prints it) or the certificate file')
    .requiredOption('--deny-list <file>', 'the deny list to append to (created when missing); copy it to every agent')
    .option('--json', 'print the serial as JSON')
    .action(async (serialOrCert: string, opts: { denyList: string }, cmd: Command) =>
      act(cmd, async (json) => {
        const r = revokeSerial(opts.denyList, serialOrCert);
        makeOut(json).result({ ...r, denyList: opts.denyList }, r.added ? `revoked serial ${r.serial} (${opts.denyList}); agents reading this file refuse it at their next call` : `serial ${r.serial} is already in ${opts.denyList}`);
      }),
    );

  return certs;
}
