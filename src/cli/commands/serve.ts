/** `davis serve`: the gateway alone, as production runs it. */
import { openGateway } from '../../app/gateway';
import { loadConfig } from '../../config/config';
import { createLogger } from '../../ops/logger';
import { configFileOf, configOption, type Command } from '../command';
import { exitOnUnhandled, startOrExplain, stopDeadlineMs, waitForSignal } from '../lifecycle';

export const serveCommand: Command = {
  options: configOption,
  help: `Usage: davis serve [--config FILE]

Starts the gateway: the API (gateway.host:gateway.port), the dispatcher to central
(central.url, mutual TLS) and the broker connection (amqp.urls). Signing key
(signing.keyFile + signing.certFile, or signing.p12File) and trust anchors (signing.trust)
are required. Every request must authenticate (client certificate or bearer token) unless
mode is "dev".

Options:
  --config FILE   JSON configuration file
  --help          this text
`,
  async run(v, _p, io) {
    const config = loadConfig(configFileOf(v));
    const logger = createLogger(config.log.level);
    exitOnUnhandled(logger);
    const gw = await openGateway(config, logger);
    if (!(await startOrExplain(gw, config, io))) return 2;
    io.out(`davis gateway listening on ${gw.url}\n`);
    return waitForSignal(async () => { await gw.stop(); }, { onHangup: () => { gw.reloadPki(); }, deadlineMs: stopDeadlineMs(config) });
  },
};
