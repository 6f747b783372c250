/** `davis dev` (what `npm start` runs): gateway, mock central VIS and dev PKI on one machine. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MockTsa } from '../../../mocks/tsa/server';
import { openGateway } from '../../app/gateway';
import { checkpointDirOf } from '../../audit/open-audit';
import { loadConfig, redactUrl } from '../../config/config';
import { createLogger } from '../../ops/logger';
import { configFileOf, configOption, type Command, type Io } from '../command';
import { loadDevPki, loadMock } from '../dev-tools';
import { exitOnUnhandled, startOrExplain, stopDeadlineMs, waitForSignal } from '../lifecycle';
import { startMock } from './mock-vis';
import { CALLBACKS_PATH, DEV_CALLBACK_PORT, WebhookReceiver } from '../../conformance/http';

/** The local time-stamping authority `davis dev` runs, and the files a verifier needs. */
interface DevTsa {
  readonly tsa: MockTsa;
  readonly url: string;
  readonly caFile: string;
}

/**
 * Starts the local RFC 3161 TSA (mocks/tsa, answers made by `openssl ts`) with its PKI in
 * `dir`, so that dev checkpoints carry timestamp tokens. Without openssl, or without the
 * mock in this installation, says so and returns undefined: dev runs without timestamps.
 */
async function startDevTsa(dir: string, io: Io): Promise<DevTsa | undefined> {
  const without = 'audit checkpoints are signed but not time-stamped (set audit.tsaUrl to use another TSA)';
  try {
    await promisify(execFile)('openssl', ['version']);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.err(`davis dev: ${e.code === 'ENOENT' ? 'openssl is not installed' : `openssl does not run (${e.message})`}, so there is no local time-stamping authority: ${without}\n`);
    return undefined;
  }
  let MockTsaClass: typeof MockTsa;
  try {
    ({ MockTsa: MockTsaClass } = await import('../../../mocks/tsa/server'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    io.err(`davis dev: the local time-stamping authority (mocks/tsa) is not in this installation: ${without}\n`);
    return undefined;
  }
  const tsa = new MockTsaClass({ dir, host: '127.0.0.1' });
  try {
    const { url, caFile } = await tsa.start();
    return { tsa, url, caFile };
  } catch (err) {
    await tsa.stop();
    io.err(`davis dev: the local time-stamping authority did not start (${(err as Error).message.split('\n')[0]}): ${without}\n`);
    return undefined;
  }
}

export const devCommand: Command = {
  options: configOption,
  help: `Usage: davis dev [--config FILE]

Starts the whole product on this machine: the mock central VIS (https://127.0.0.1:8443,
control endpoints on http://127.0.0.1:8444), a development PKI created on first start under
<dataDir>/pki (dataDir defaults to .davis), a SQLite journal, and the gateway API on
http://127.0.0.1:8080 (DAVIS_PORT) in dev mode: loopback requests without credentials act
as a dev client allowed every message type. RabbitMQ is read from AMQP_URL
(default amqp://guest:guest@127.0.0.1:5672). Unless audit.tsaUrl is configured, a local
RFC 3161 time-stamping authority (openssl ts; its CA in <dataDir>/tsa/tsa-ca.crt.pem) is
started on a free loopback port and stamps the audit checkpoints; without openssl, dev
says so and the checkpoints are not time-stamped.

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
    // The local TSA, unless the configuration names one (the file and environment win over overrides).
    const devTsa = first.audit.tsaUrl ? undefined : await startDevTsa(path.join(first.dataDir, 'tsa'), io);
    const config = loadConfig({
      ...file,
      overrides: {
        mode: 'dev',
        ...(devTsa ? { audit: { tsaUrl: devTsa.url } } : {}),
        ...(callbacks ? { webhook: { url: `${callbacks.url}/hooks`, secret: callbacks.secret } } : {}),
        signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
        // The mock started below, wherever mock.host/mock.port put it.
        central: { url: `https://${first.mock.host}:${first.mock.port}/vis/v1/messages`, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey },
      },
    });
    const logger = createLogger(config.log.level);
    exitOnUnhandled(logger);
    const gwBase = `${config.gateway.tls ? 'https' : 'http'}://${config.gateway.host}:${config.gateway.port}`;
    const started = await (async () => {
      const m = await startMock(pkiDir, config.mock.host, config.mock.port, config.mock.controlPort || undefined, logger, `${gwBase}/v1/central/notifications`);
      try {
        return { ...m, gw: await openGateway(config, logger) };
      } catch (err) {
        await m.mock.stop();
        throw err;
      }
    })().catch(async (err: unknown) => {
      // Nothing left listening: the process ends with the error.
      await callbacks?.receiver.stop();
      await devTsa?.tsa.stop();
      throw err;
    });
    const { mock, url: centralUrl, controlUrl, gw } = started;
    if (!(await startOrExplain(gw, config, io))) {
      await mock.stop();
      await callbacks?.receiver.stop();
      await devTsa?.tsa.stop();
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
      `  TSA             ${devTsa ? `${devTsa.url} (RFC 3161, local; CA ${devTsa.caFile})` : config.audit.tsaUrl ? redactUrl(config.audit.tsaUrl) : 'none: audit checkpoints are not time-stamped'}`,
      `  checkpoints     ${checkpointDirOf(config)}`,
      `  journal         ${config.journal.driver === 'postgres' ? `PostgreSQL ${redactUrl(config.journal.postgresUrl)}` : path.resolve(config.dataDir, config.journal.sqlitePath)}`,
      `  broker          ${config.amqp.urls.map(redactUrl).join(', ')}`,
      'Stop with Ctrl-C.',
      '',
    ].join('\n'));
    return waitForSignal(async () => {
      // The gateway's last checkpoint is stamped before the TSA goes.
      await gw.stop();
      await mock.stop();
      await callbacks?.receiver.stop();
      await devTsa?.tsa.stop();
    }, { onHangup: () => { gw.reloadPki(); }, deadlineMs: stopDeadlineMs(config) });
  },
};
