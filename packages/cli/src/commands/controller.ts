// `seconet controller --config FILE`: the controller (queue worker, engine, agent registry,
// store) and its REST API in one process, until SIGTERM/SIGINT; then the API stops taking
// requests, the worker hands unfinished runs back to the queue and the store closes, within
// STOP_BOUND_MS whatever is down.

import { Command } from 'commander';
import pino from 'pino';
import { buildApi, loadControllerConfig, plaintextApiWarning, readApiTls, readTokenFile, startController } from '@seconet/controller';
import { onStopSignals, SeconetError } from '@seconet/core';
import { act, examples } from '../command-kit.js';
import { VERSION } from '../version.js';

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new SeconetError('INVALID_ARGUMENT', `api.listen ${JSON.stringify(listen)} is not host:port`, { field: 'api.listen' });
  return { host, port };
}

export function controllerCommand(): Command {
  return new Command('controller')
    .description('run the controller and its REST API with the given config file')
    .requiredOption('-c, --config <file>', 'controller config file (YAML)')
    .option('--listen <host:port>', 'API address (overrides api.listen)')
    .option('--no-worker', 'serve the API only; run no experiments from this process')
    .addHelpText('after', examples(['seconet controller --config /etc/seconet/controller.yaml']))
    .action(
      act(async (opts: { config: string; listen?: string; worker: boolean }) => {
        const config = loadControllerConfig(opts.config);
        const log = pino({ level: config.logLevel, base: { service: 'seconet-controller' } });
        const tokens = readTokenFile(config.api.tokenFile);
        const https = config.api.tls === undefined ? undefined : readApiTls(config.api.tls);
        const { host, port } = splitListen(opts.listen ?? config.api.listen);
        const running = await startController(config, { log, noWorker: !opts.worker });
        const app = await buildApi({ service: running.service, tokens, logger: log, version: VERSION, ...(https ? { https } : {}) });
        const warning = plaintextApiWarning(host, https !== undefined);
        if (warning !== undefined) log.warn({ listen: `${host}:${port}` }, warning);
        try {
          await app.listen({ host, port });
        } catch (e) {
          await running.stop();
          throw new SeconetError('INVALID_ARGUMENT', `api.listen ${host}:${port}: ${(e as Error).message}`, { field: 'api.listen', cause: e });
        }
        log.info({ listen: `${host}:${port}`, tls: https !== undefined, agents: config.agents.map((a) => a.name) }, 'controller ready');
        // Bounded: a dead Redis or agent must not make SIGTERM hang (core/stop-bound.ts).
        return onStopSignals(() => app.close().then(() => running.stop()), { log });
      }),
    );
}
