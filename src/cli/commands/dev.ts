/** `davis dev` (what `npm start` runs): gateway, mock central VIS and dev PKI on one machine. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { openGateway } from '../../app/gateway';
import { loadConfig, redactUrl } from '../../config/config';
import { createLogger } from '../../ops/logger';
import { configFileOf, configOption, type Command } from '../command';
import { loadDevPki, loadMock } from '../dev-tools';
import { startOrExplain, stopDeadlineMs, waitForSignal } from '../lifecycle';
import { startMock } from './mock-vis';
import { CALLBACKS_PATH, DEV_CALLBACK_PORT, WebhookReceiver } from '../../conformance/http';

export const devCommand: Command = {
  options: configOption,
  help: `Usage: davis dev [--config FILE]

Starts the whole product on this machine: the mock central VIS (https://127.0.0.1:8443,
control endpoints on http://127.0.0.1:8444), a development PKI created on first start under
<dataDir>/pki (dataDir defaults to .davis), a SQLite journal, and the gateway API on
http://127.0.0.1:8080 (DAVIS_PORT) in dev mode: loopback requests without credentials act
as a dev client allowed every message type. RabbitMQ is read from AMQP_URL
(default amqp://guest:guest@127.0.0.1:5672).

Options:
  --config FILE   JSON configuration file (see README.md, "Configuration")
  --help          this text
Exit codes: 2 when the configuration is invalid or RabbitMQ is unreachable.
`,
  async run(v, _p, io) {
    // First, so that an image without the mock says so before anything is written.
    await loadMock();
    const file = configFileOf(v);
    const first = loadConfig({ ...file, overrides: { mode: 'dev' } });
    const pkiDir = path.join(first.dataDir, 'pki');
    const pki = await (await loadDevPki()).ensureDevPki(pkiDir);
    // UMA's stand-in: unless webhook.url is configured, callbacks go to a loopback receiver
    // that `davis conformance run` reads (GET /_uma/callbacks).
    let callbacks: { receiver: WebhookReceiver; url: string; secret: string } | undefined;
    if (!first.webhook.url) {
      const secret = first.webhook.secret ?? randomBytes(24).toString('base64url');
      const receiver = new WebhookReceiver(secret);
      try {
        callbacks = { receiver, url: (await receiver.start(DEV_CALLBACK_PORT)).replace(/\/$/, ''), secret };
      } catch (err) {
        io.err(`davis dev: no UMA callback receiver (127.0.0.1:${DEV_CALLBACK_PORT}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); callbacks are off\n`);
      }
    }
    const config = loadConfig({
      ...file,
      overrides: {
        mode: 'dev',
        ...(callbacks ? { webhook: { url: `${callbacks.url}/hooks`, secret: callbacks.secret } } : {}),
        signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
        // The mock started below, wherever mock.host/mock.port put it.
        central: { url: `https://${first.mock.host}:${first.mock.port}/vis/v1/messages`, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey },
      },
    });
    const logger = createLogger(config.log.level);
    const gwBase = `${config.gateway.tls ? 'https' : 'http'}://${config.gateway.host}:${config.gateway.port}`;
    const { mock, url: centralUrl, controlUrl } = await startMock(pkiDir, config.mock.host, config.mock.port, config.mock.controlPort || undefined, logger, `${gwBase}/v1/central/notifications`);
    const gw = await openGateway(config, logger);
    if (!(await startOrExplain(gw, config, io))) {
      await mock.stop();
      await callbacks?.receiver.stop();
      return 2;
    }
    io.out([
      '',
      'DAVIS gateway (dev mode) is running',
      `  API             ${gw.url}/v1/messages`,
      `  dashboard       ${gw.url}/ops`,
      `  API docs        ${gw.url}/docs`,
      `  metrics         ${gw.url}/metrics`,
      `  health          ${gw.url}/health/ready`,
      `  central (mock)  ${centralUrl}`,
      ...(controlUrl ? [`  mock control    ${controlUrl}/_mock/received`] : []),
      ...(callbacks ? [`  UMA callbacks   ${callbacks.url}${CALLBACKS_PATH}`] : []),
      `  dev PKI         ${pkiDir}`,
      `  journal         ${config.journal.driver === 'postgres' ? `PostgreSQL ${redactUrl(config.journal.postgresUrl)}` : path.resolve(config.dataDir, config.journal.sqlitePath)}`,
      `  broker          ${redactUrl(config.amqp.url)}`,
      'Stop with Ctrl-C.',
      '',
    ].join('\n'));
    return waitForSignal(async () => {
      await gw.stop();
      await mock.stop();
      await callbacks?.receiver.stop();
    }, { onHangup: () => { gw.reloadPki(); }, deadlineMs: stopDeadlineMs(config) });
  },
};
