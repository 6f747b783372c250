/** `davis mock-vis`: the mock central VIS alone (not in the production image). */
import path from 'node:path';
import { loadConfig } from '../../config/config';
import { createLogger } from '../../ops/logger';
import { loadSigningKey, loadTrustStore } from '../../signing/pki';
import { configFileOf, configOption, type Command } from '../command';
import { loadDevPki, loadMock } from '../dev-tools';
import { waitForSignal } from '../lifecycle';

/** The port number in `s`, or a usage error (`code` USAGE: `main.ts` exits 2). */
export function parsePort(s: string, flag: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw Object.assign(new Error(`${flag} must be a port number`), { code: 'USAGE' });
  return n;
}

/** Starts the mock with the dev PKI in `pkiDir` (created when missing). */
export async function startMock(pkiDir: string, host: string, port: number, controlPort: number | undefined, logger: ReturnType<typeof createLogger>, notifyUrl?: string) {
  const [{ MockCentralVis }, { ensureDevPki }] = await Promise.all([loadMock(), loadDevPki()]);
  const pki = await ensureDevPki(pkiDir);
  const mock = new MockCentralVis({
    host, port, ...(controlPort !== undefined ? { controlPort } : {}),
    tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
    signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }),
    trust: loadTrustStore(pki.caCert),
    logger, ...(notifyUrl ? { notifyUrl } : {}),
  });
  const addr = await mock.start();
  return { mock, ...addr };
}

export const mockVisCommand: Command = {
  options: { ...configOption, pki: { type: 'string' }, port: { type: 'string' }, 'control-port': { type: 'string' }, gateway: { type: 'string' } },
  help: `Usage: davis mock-vis [--config FILE] [--pki DIR] [--port N] [--control-port N] [--gateway URL]

Starts the mock central VIS: HTTPS with client-certificate check on mock.host:mock.port
(default 127.0.0.1:8443), verifying signatures against the PKI's CA, validating the wire
XML against the XSD, applying central rules and answering signed XML.

Options:
  --pki DIR          the PKI folder (from \`davis certs init\`; created if missing) [default: <dataDir>/pki]
  --port N           HTTPS port [default: 8443]
  --control-port N   plain-HTTP /_mock/* control endpoints on 127.0.0.1:N [default: off]
  --gateway URL      the gateway that POST /_mock/notify delivers to [default: http://127.0.0.1:8080]
  --config FILE      JSON configuration file
  --help             this text
`,
  async run(v, _p, io) {
    const config = loadConfig(configFileOf(v));
    const logger = createLogger(config.log.level);
    const pkiDir = v.pki ? path.resolve(String(v.pki)) : path.join(config.dataDir, 'pki');
    const port = v.port !== undefined ? parsePort(String(v.port), '--port') : config.mock.port;
    const controlPort = v['control-port'] !== undefined ? parsePort(String(v['control-port']), '--control-port') : undefined;
    const gatewayUrl = typeof v.gateway === 'string' ? v.gateway.replace(/\/+$/, '') : `http://${config.gateway.host}:${config.gateway.port}`;
    const { mock, url, controlUrl } = await startMock(pkiDir, config.mock.host, port, controlPort, logger, `${gatewayUrl}/v1/central/notifications`);
    io.out(`mock central VIS on ${url}${controlUrl ? `\ncontrol endpoints on ${controlUrl}/_mock/` : ''}\n`);
    return waitForSignal(() => mock.stop());
  },
};
