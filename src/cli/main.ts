import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openGateway, type Gateway } from '../app/gateway';
import { listTypes, getType } from '../catalogue/catalogue';
import { loadConfig, redactUrl, type Config } from '../config/config';
import { isDavisError, type FieldError } from '../errors/errors';
import { createLogger } from '../ops/logger';
import { packageVersion } from '../ops/version';
import { loadSigningKey, loadTrustStore } from '../signing/pki';
import { createDevPki, ensureDevPki } from '../dev/dev-pki';
import { signEnveloped, verifyEnveloped } from '../signing/xmldsig';
import { validatePayload } from '../validation/validate';
import { checkEnvelope } from '../exchange/submit';
import { screenXml } from '../xml/screen';
import { createXsdValidator } from '../wire/xsd';
import { WIRE_SCREEN_LIMITS } from '../wire/envelope';
import { MockCentralVis } from '../../mocks/central/server';
import { conformanceCommand, CONFORMANCE_HELP } from './conformance-command';

/** Exit codes: 0 ok, 1 the input is invalid / the check failed, 2 cannot run (usage, config, broker). */
const USAGE = `davis — the DAVIS gateway between UMA and the central VIS

Usage: davis <command> [options]

Commands:
  dev                  gateway + mock central VIS + dev PKI on this machine (what \`npm start\` runs)
  serve                the gateway alone
  mock-vis             the mock central VIS alone
  validate FILE...     validate JSON messages ({"type","payload"}) or wire XML; exit 1 if any is invalid
  sign FILE --key K --cert C
                       sign a wire XML document (enveloped XML-DSig); the signed XML goes to stdout
  verify FILE [--trust CA]
                       verify a signed document's signature and signing profile; exit 1 naming the rule
  certs init DIR       create a development PKI (CA, gateway, mock central, one UMA client)
  catalogue [--json]   list every message type
  conformance run FILE...   replay conformance suites against a gateway and mock central
  conformance record --since T --out F
                       turn journaled traffic into a replayable suite

Every command takes --help. Configuration: --config FILE (JSON) and DAVIS_* variables;
see README.md.
`;

const HELP: Record<string, string> = {
  conformance: CONFORMANCE_HELP,
  dev: `Usage: davis dev [--config FILE]

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
  serve: `Usage: davis serve [--config FILE]

Starts the gateway: the API (gateway.host:gateway.port), the dispatcher to central
(central.url, mutual TLS) and the broker connection (amqp.url). Signing key
(signing.keyFile + signing.certFile, or signing.p12File) and trust anchors (signing.trust)
are required. Every request must authenticate (client certificate or bearer token) unless
mode is "dev".

Options:
  --config FILE   JSON configuration file
  --help          this text
`,
  'mock-vis': `Usage: davis mock-vis [--config FILE] [--pki DIR] [--port N] [--control-port N] [--gateway URL]

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
  validate: `Usage: davis validate FILE...

Validates each file: a JSON message ({"type": "...", "payload": {...}}) against the catalogue
schema, or a wire XML document (screened, then the XSD). Prints "FILE: valid" or one line per
error: "FILE: POINTER: reason".

Exit codes: 0 all valid, 1 some invalid, 2 a file cannot be read.
`,
  sign: `Usage: davis sign FILE --key KEY.pem --cert CERT.pem
       davis sign FILE --p12 ID.p12 [--passphrase P]

Signs the wire XML document FILE with an enveloped XML-DSig signature (exclusive C14N,
RSA-SHA256 or ECDSA-SHA256 by the key type, the certificate in KeyInfo) and writes the signed
document to stdout. The passphrase may also come from DAVIS_SIGNING_PASSPHRASE.

Exit codes: 0 signed, 1 the document is refused (the line names the code, e.g. a DOCTYPE),
2 a file or key cannot be read.
`,
  verify: `Usage: davis verify FILE [--trust CA.pem|DIR] [--config FILE]

Verifies the signature of FILE and the strict signing profile (one signature under the root,
one whole-document reference, allowed transforms and algorithms, certificate chain, validity,
key usage). It does not check the schema. --trust takes a PEM file or a folder holding only
CA certificates (*.pem, *.crt). Without --trust, the dev PKI's CA
(<dataDir>/pki/ca.crt.pem) is used.

Exit codes: 0 valid, 1 refused (the line names the rule's error code), 2 cannot read.
`,
  certs: `Usage: davis certs init DIR [--host NAME]...

Creates a development PKI in DIR: ca.crt.pem/ca.key.pem, gateway.crt.pem/gateway.key.pem
(+ gateway.p12, passphrase "changeit"), central.crt.pem/central.key.pem and
uma-client.crt.pem/uma-client.key.pem. The server certificates name localhost and
127.0.0.1; --host adds a DNS name (repeatable, e.g. container names). For development
and tests only.
`,
  catalogue: `Usage: davis catalogue [--json]

Lists every message type: id, direction (outbound: UMA → central; inbound: central
notifications), legal article, roles allowed to send it (inbound: the reply type), ordering key.
  --json   the same as JSON
`,
};

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}
const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Runs the CLI; resolves with the exit code (long-running commands resolve when stopped). */
export async function run(argv: string[], io: Io = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    io.err(`davis: unknown command "${cmd}"\n\n${USAGE}`);
    return 2;
  }
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`davis ${cmd}: ${(err as Error).message}\n\n${HELP[cmd] ?? USAGE}`);
    return 2;
  }
  if (args.values.help) {
    io.out(HELP[cmd] ?? USAGE);
    return 0;
  }
  try {
    return await command.run(args.values as Values, args.positionals, io);
  } catch (err) {
    if (isDavisError(err)) {
      io.err(`davis ${cmd}: ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;
interface Command {
  options: ParseArgsConfig['options'];
  run(values: Values, positionals: string[], io: Io): Promise<number>;
}

const configOpt = { config: { type: 'string' as const } };

const COMMANDS: Record<string, Command> = {
  conformance: conformanceCommand,
  dev: { options: configOpt, run: (v, _p, io) => runDev(v, io) },
  serve: {
    options: configOpt,
    async run(v, _p, io) {
      const config = loadConfig(v.config ? { file: String(v.config) } : {});
      const logger = createLogger(config.log.level);
      const gw = await openGateway(config, logger);
      if (!(await startOrExplain(gw, config, io))) return 2;
      io.out(`davis gateway listening on ${gw.url}\n`);
      return waitForSignal(async () => { await gw.stop(); }, () => { gw.reloadPki(); });
    },
  },
  'mock-vis': {
    options: { ...configOpt, pki: { type: 'string' }, port: { type: 'string' }, 'control-port': { type: 'string' }, gateway: { type: 'string' } },
    async run(v, _p, io) {
      const config = loadConfig(v.config ? { file: String(v.config) } : {});
      const logger = createLogger(config.log.level);
      const pkiDir = v.pki ? path.resolve(String(v.pki)) : path.join(config.dataDir, 'pki');
      const port = v.port !== undefined ? parsePort(String(v.port), '--port') : config.mock.port;
      const controlPort = v['control-port'] !== undefined ? parsePort(String(v['control-port']), '--control-port') : undefined;
      const gatewayUrl = typeof v.gateway === 'string' ? v.gateway.replace(/\/+$/, '') : `http://${config.gateway.host}:${config.gateway.port}`;
      const { mock, url, controlUrl } = await startMock(pkiDir, config.mock.host, port, controlPort, logger, `${gatewayUrl}/v1/central/notifications`);
      io.out(`mock central VIS on ${url}${controlUrl ? `\ncontrol endpoints on ${controlUrl}/_mock/` : ''}\n`);
      return waitForSignal(() => mock.stop());
    },
  },
  validate: {
    options: {},
    async run(_v, files, io) {
      if (!files.length) {
        io.err(HELP.validate);
        return 2;
      }
      let invalid = false;
      const xsd = createXsdValidator();
      for (const file of files) {
        const text = readInput(file, io);
        if (text === undefined) return 2;
        let errors: FieldError[];
        try {
          errors = text.trimStart().startsWith('<') ? xsd.validate(screenXml(text, WIRE_SCREEN_LIMITS)) : validateJsonMessage(text);
        } catch (err) {
          if (!isDavisError(err)) throw err;
          errors = err.errors?.length ? [...err.errors] : [{ pointer: '', message: `${err.code}: ${err.message}` }];
        }
        if (errors.length) {
          invalid = true;
          for (const e of errors) io.out(`${file}: ${e.pointer || '/'}: ${e.message}\n`);
        } else {
          io.out(`${file}: valid\n`);
        }
      }
      return invalid ? 1 : 0;
    },
  },
  sign: {
    options: { key: { type: 'string' }, cert: { type: 'string' }, p12: { type: 'string' }, passphrase: { type: 'string' } },
    async run(v, files, io) {
      if (files.length !== 1 || !((v.key && v.cert) || v.p12)) {
        io.err(HELP.sign);
        return 2;
      }
      const key = v.p12
        ? loadSigningKey({ p12File: String(v.p12), passphrase: String(v.passphrase ?? process.env.DAVIS_SIGNING_PASSPHRASE ?? '') })
        : loadSigningKey({ keyFile: String(v.key), certFile: String(v.cert) });
      const xml = readInput(files[0], io);
      if (xml === undefined) return 2;
      try {
        io.out(signEnveloped(screenXml(xml, WIRE_SCREEN_LIMITS), key));
        return 0;
      } catch (err) {
        if (!isDavisError(err)) throw err;
        io.err(`${files[0]}: refused: ${err.code}: ${err.message}\n`);
        return 1;
      }
    },
  },
  verify: {
    options: { trust: { type: 'string' }, ...configOpt },
    async run(v, files, io) {
      if (files.length !== 1) {
        io.err(HELP.verify);
        return 2;
      }
      const trustPath = v.trust ? String(v.trust) : path.join(loadConfig(v.config ? { file: String(v.config) } : {}).dataDir, 'pki', 'ca.crt.pem');
      const trust = loadTrustStore(trustPath);
      const xml = readInput(files[0], io);
      if (xml === undefined) return 2;
      try {
        const res = verifyEnveloped(xml, trust);
        io.out(`${files[0]}: signature valid (${res.algorithm}, signed by ${res.certificate.subject.replace(/\n/g, ', ')})\n`);
        return 0;
      } catch (err) {
        if (!isDavisError(err)) throw err;
        io.out(`${files[0]}: refused: ${err.code}: ${err.message}\n`);
        return 1;
      }
    },
  },
  certs: {
    options: { host: { type: 'string', multiple: true } },
    async run(v, pos, io) {
      if (pos[0] !== 'init' || pos.length !== 2) {
        io.err(HELP.certs);
        return 2;
      }
      const extra = (v.host as unknown as string[] | undefined) ?? [];
      const files = await createDevPki(path.resolve(pos[1]), extra.length ? { hosts: ['localhost', '127.0.0.1', ...extra] } : {});
      io.out(`development PKI written (not for production):\n${Object.entries(files).map(([k, f]) => `  ${k}: ${f}`).join('\n')}\n`);
      return 0;
    },
  },
  catalogue: {
    options: { json: { type: 'boolean' } },
    async run(v, _p, io) {
      const types = listTypes({ direction: 'all' });
      if (v.json) {
        io.out(JSON.stringify(types.map((t) => ({
          id: t.id, direction: t.direction, title: t.title, article: t.article, roles: t.roles, orderingKey: t.orderingKey, xmlName: t.xmlName,
          ...(t.replyType ? { replyType: t.replyType } : {}),
        })), null, 2) + '\n');
        return 0;
      }
      const rows = types.map((t) => [t.id, t.direction, t.article, t.direction === 'inbound' ? `(reply: ${t.replyType ?? 'none'})` : t.roles.join(','), t.orderingKey, t.title]);
      const head = ['TYPE', 'DIRECTION', 'ARTICLE', 'ROLES', 'ORDERING KEY', 'TITLE'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
      return 0;
    },
  },
};

/** A file's text, or undefined after telling the user it cannot be read. */
function readInput(file: string, io: Io): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`${file}: cannot read: ${(err as Error).message}\n`);
    return undefined;
  }
}

function validateJsonMessage(text: string): FieldError[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return [{ pointer: '', message: `not JSON: ${(err as Error).message}` }];
  }
  const { type, payload } = checkEnvelope(body);
  if (!getType(type)) return [{ pointer: '/type', message: `unknown message type "${type}"` }];
  return validatePayload(type, payload).map((e) => ({ pointer: `/payload${e.pointer}`, message: e.message }));
}

function parsePort(s: string, flag: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw Object.assign(new Error(`${flag} must be a port number`), { code: 'USAGE' });
  return n;
}

async function startMock(pkiDir: string, host: string, port: number, controlPort: number | undefined, logger: ReturnType<typeof createLogger>, notifyUrl?: string) {
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

async function runDev(v: Values, io: Io): Promise<number> {
  const file = v.config ? { file: String(v.config) } : {};
  const first = loadConfig({ ...file, overrides: { mode: 'dev' } });
  const pkiDir = path.join(first.dataDir, 'pki');
  const pki = await ensureDevPki(pkiDir);
  const config = loadConfig({
    ...file,
    overrides: {
      mode: 'dev',
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
    `  dev PKI         ${pkiDir}`,
    `  journal         ${config.journal.driver === 'postgres' ? `PostgreSQL ${redactUrl(config.journal.postgresUrl)}` : path.resolve(config.dataDir, config.journal.sqlitePath)}`,
    `  broker          ${redactUrl(config.amqp.url)}`,
    'Stop with Ctrl-C.',
    '',
  ].join('\n'));
  return waitForSignal(async () => {
    await gw.stop();
    await mock.stop();
  }, () => { gw.reloadPki(); });
}

async function startOrExplain(gw: Gateway, config: Config, io: Io): Promise<boolean> {
  try {
    await gw.start();
    return true;
  } catch (err) {
    if (isDavisError(err) && err.code === 'DAVIS_ERR_BROKER_UNAVAILABLE') {
      io.err(`\ndavis: cannot reach RabbitMQ at ${redactUrl(config.amqp.url)} (${(err.cause as Error)?.message ?? err.message}). ` +
        'The gateway journals and queues every message through a RabbitMQ broker and will not start without one. ' +
        'Start a local broker (Debian/Ubuntu: `sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached`; ' +
        'or `docker compose up -d rabbitmq` in this folder), or point AMQP_URL at a reachable broker, then start again.\n\n');
      return false;
    }
    throw err;
  }
}

/** Resolves with exit code 0 after SIGINT or SIGTERM and a clean stop; SIGHUP calls `onHangup` (PKI reload). */
function waitForSignal(stop: () => Promise<void>, onHangup?: () => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const hup = () => onHangup?.();
    // Without a handler Node's default for SIGHUP ends the process.
    process.on('SIGHUP', hup);
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      process.off('SIGHUP', hup);
      stop().then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
