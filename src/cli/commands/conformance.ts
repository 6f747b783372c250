/**
 * `davis conformance run|record`: the tester's entry point to the conformance runner
 * (src/conformance).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, sqliteFile, type Config } from '../../config/config';
import { isDavisError } from '../../errors/errors';
import { SqliteJournal } from '../../journal/journal-sqlite';
import { loadJournalKeyring, openJournal } from '../../journal/open-journal';
import type { JournalKeyring } from '../../journal/journal-cipher';
import type { Journal } from '../../journal/journal';
import { loadSigningKey } from '../../signing/pki';
import type { SigningKey } from '../../signing/types';
import { loadSuites, SuiteLoadError } from '../../conformance/loader';
import { parseTime, recordSuite, RecordError } from '../../conformance/recorder';
import { consoleHooks, summaryText } from '../../conformance/reports/console';
import { htmlReport } from '../../conformance/reports/html';
import { junitXml } from '../../conformance/reports/junit';
import { DEFAULT_CALLBACK_RECEIVER_URL } from '../../conformance/http';
import { DEFAULT_GATEWAY_URL, DEFAULT_MOCK_CONTROL_URL, runSuites } from '../../conformance/runner';
import { buildStatement, signStatement } from '../../conformance/statement';
import type { Command, Io, Values } from '../command';

/** `davis conformance --help`. */
export const CONFORMANCE_HELP = `Usage: davis conformance run FILE|DIR... [options]
       davis conformance record --since T [--until T] [--pseudonymize] --out F [options]

run: replays suites (YAML, see docs/conformance.md) through a gateway and the mock central,
phase by phase (connectivity, compliance, robustness; a failed phase stops the later ones),
prints a line per case and a summary, and writes the reports asked for. A folder stands for
its *.yaml files.
  --gateway URL          gateway API [default: ${DEFAULT_GATEWAY_URL}]
  --mock-control URL     mock central control endpoint [default: ${DEFAULT_MOCK_CONTROL_URL}]
  --seed N               run seed: fault patterns and \${random:…} values (printed when not given)
  --run-id ID            run id in \${unique:…} values (A-Z0-9, ≤12) [default: random]
  --grep PATTERN         only cases whose id, title, a tag, the phase or the suite id matches
                         (regular expression, any case; ^ROB-001$ selects one case)
  --keep-going           run later phases even when one fails
  --timeout DURATION     longest wait of asynchronous expectations (overrides the suites', e.g. 60s)
  --token TOKEN          bearer token for a gateway outside dev mode
  --webhook-receiver URL read the gateway's callbacks from the receiver there (GET /_uma/callbacks)
                         [default: ${DEFAULT_CALLBACK_RECEIVER_URL}, the one davis dev runs]
  --webhook-port N       instead, start a callback receiver on 127.0.0.1:N (0: any) for
                         expect-webhook steps; the gateway's webhook.url must point at it
  --webhook-secret S     secret of X-Davis-Signature (overrides the suites' webhook.secret)
  --reset-mock           POST /_mock/reset before the run (empties the mock's state)
  --junit FILE           JUnit XML report
  --html FILE            self-contained HTML report (shows what was sent: payloads included)
  --json FILE            the raw run result (JSON)
  --statement FILE       signed conformance statement (XML-DSig; check it with davis verify FILE)
  --key K --cert C       signing identity of the statement (PEM) [default: signing.* of the
  --p12 F [--passphrase P]  configuration, else the dev PKI's gateway key under <dataDir>/pki]
  --config FILE          configuration file (for the signing key and the journal)
  --verbose              titles on the progress lines
Exit codes: 0 every selected case passed; 1 a case failed or a phase failed; 2 cannot run
(usage, an invalid suite with file:line of each problem, no signing key).

record: turns journaled traffic into a suite whose expectations are the observed outcomes.
  --since T              messages created at or after T (ISO 8601, or 30m, 2h, 7d back)
  --until T              and before T [default: now]
  --out FILE             the suite to write (- for stdout)
  --pseudonymize         replace names, birth dates and places, document numbers, addresses,
                         contacts and biometric data, consistently (share the suite safely)
  --type TYPE            only this message type (repeatable)
  --journal FILE         a SQLite journal file, opened with the configuration's journal key or the
                         journal.key beside it (davis dev) [default: the configuration's journal]
  --suite-id ID          id of the recorded suite
  --config FILE          configuration file
Exit codes: 0 written, 2 cannot (no journal, bad time, a payload that cannot be pseudonymised).
`;

/** Thrown for a usage problem; the command prints it and exits 2. */
class UsageError extends Error {}

const str = (v: Values, k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);

function intOption(v: Values, k: string, max: number): number | undefined {
  const s = str(v, k);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) > max) throw new UsageError(`--${k} must be an integer from 0 to ${max}`);
  return Number(s);
}

function durationOption(v: Values, k: string): number | undefined {
  const s = str(v, k);
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new UsageError(`--${k} must be a duration such as 500ms, 30s or 2m`);
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60000 : 1000));
}

function writeOut(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

/**
 * The statement's signing identity: `--p12`, `--key/--cert`, the configuration's signing
 * key, or the dev PKI's gateway key (what `davis dev` signs with).
 */
function statementKey(v: Values): SigningKey {
  const p12 = str(v, 'p12');
  const key = str(v, 'key');
  const cert = str(v, 'cert');
  const passphrase = str(v, 'passphrase') ?? process.env.DAVIS_SIGNING_PASSPHRASE ?? '';
  if (p12) return loadSigningKey({ p12File: p12, passphrase });
  if (key || cert) {
    if (!key || !cert) throw new UsageError('--key and --cert go together');
    return loadSigningKey({ keyFile: key, certFile: cert });
  }
  const config = loadConfig(str(v, 'config') ? { file: str(v, 'config')! } : {});
  const s = config.signing;
  if (s.p12File) return loadSigningKey({ p12File: s.p12File, passphrase: s.passphrase ?? passphrase });
  if (s.keyFile && s.certFile) return loadSigningKey({ keyFile: s.keyFile, certFile: s.certFile });
  const devKey = path.join(config.dataDir, 'pki', 'gateway.key.pem');
  const devCert = path.join(config.dataDir, 'pki', 'gateway.crt.pem');
  if (existsSync(devKey) && existsSync(devCert)) return loadSigningKey({ keyFile: devKey, certFile: devCert });
  throw new UsageError(`--statement needs a signing key: --key K --cert C, --p12 F, signing.* in the configuration, or the dev PKI (${path.dirname(devKey)})`);
}

async function runCommand(v: Values, files: string[], io: Io): Promise<number> {
  if (!files.length) throw new UsageError('name the suite files or folders to run');
  const seed = intOption(v, 'seed', 2 ** 31 - 1);
  const webhookPort = intOption(v, 'webhook-port', 65535);
  const receiver = str(v, 'webhook-receiver');
  if (receiver !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(receiver)) throw new UsageError('--webhook-receiver: an http(s) base URL, e.g. http://127.0.0.1:8445');
  const withinMs = durationOption(v, 'timeout');
  const runId = str(v, 'run-id');
  if (runId !== undefined && !/^[A-Z0-9]{1,12}$/.test(runId)) throw new UsageError('--run-id: 1-12 characters A-Z and 0-9');
  const grep = str(v, 'grep');
  if (grep !== undefined) {
    try { new RegExp(grep, 'i'); } catch (err) { throw new UsageError(`--grep: ${(err as Error).message}`); }
  }
  let suites;
  try {
    suites = loadSuites(files);
  } catch (err) {
    if (err instanceof SuiteLoadError) {
      io.err(`davis conformance: the suites have ${err.problems.length} problem(s):\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Before the run, not after: a missing key must not cost a whole run.
  const key = str(v, 'statement') ? statementKey(v) : undefined;
  const token = str(v, 'token');
  const run = await runSuites(suites, {
    ...(str(v, 'gateway') ? { gatewayUrl: str(v, 'gateway')! } : {}),
    ...(str(v, 'mock-control') ? { mockControlUrl: str(v, 'mock-control')! } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(runId !== undefined ? { runId } : {}),
    ...(grep !== undefined ? { grep } : {}),
    keepGoing: !!v['keep-going'],
    ...(token ? { gatewayHeaders: { authorization: `Bearer ${token}` } } : {}),
    ...(webhookPort !== undefined ? { webhookPort } : {}),
    ...(str(v, 'webhook-receiver') ? { webhookReceiverUrl: str(v, 'webhook-receiver')! } : {}),
    ...(str(v, 'webhook-secret') ? { webhookSecret: str(v, 'webhook-secret')! } : {}),
    ...(withinMs !== undefined ? { withinMs } : {}),
    resetMock: !!v['reset-mock'],
    hooks: consoleHooks((s) => io.out(s), { verbose: !!v.verbose }),
  });
  const written: string[] = [];
  if (str(v, 'junit')) { writeOut(str(v, 'junit')!, junitXml(run)); written.push(`JUnit ${str(v, 'junit')}`); }
  if (str(v, 'html')) { writeOut(str(v, 'html')!, htmlReport(run)); written.push(`HTML ${str(v, 'html')}`); }
  if (str(v, 'json')) { writeOut(str(v, 'json')!, JSON.stringify(run, null, 2) + '\n'); written.push(`JSON ${str(v, 'json')}`); }
  if (key) { writeOut(str(v, 'statement')!, signStatement(buildStatement(run), key)); written.push(`statement ${str(v, 'statement')} (signed)`); }
  const rerun = `davis conformance run ${files.join(' ')} --seed ${run.seed} --run-id ${run.runId}${grep ? ` --grep '${grep}'` : ''}`;
  io.out(summaryText(run, rerun));
  if (written.length) io.out(`Reports: ${written.join(', ')}\n`);
  return run.verdict === 'passed' ? 0 : 1;
}

/**
 * The key that opens a SQLite journal's sealed rows: the configuration's when it names one,
 * else the `journal.key` that `davis dev` keeps beside its journal file.
 */
function recordKeyring(config: Config, sqlite: string): JournalKeyring | undefined {
  const j = config.journal;
  if (j.key !== undefined || j.keyFile !== undefined) return loadJournalKeyring(config);
  const beside = path.join(path.dirname(sqlite), 'journal.key');
  if (existsSync(beside)) return loadJournalKeyring({ ...config, journal: { ...j, keyFile: beside } });
  // No key anywhere: rows written in clear (a 0.1.0 journal) still read; a sealed one names the missing key.
  return undefined;
}

async function recordCommand(v: Values, io: Io): Promise<number> {
  const sinceArg = str(v, 'since');
  const out = str(v, 'out');
  if (!sinceArg || !out) throw new UsageError('record needs --since and --out');
  const since = parseTime(sinceArg);
  const until = str(v, 'until') ? parseTime(str(v, 'until')!) : undefined;
  let journal: Journal;
  const file = str(v, 'journal');
  const config = loadConfig(str(v, 'config') ? { file: str(v, 'config')! } : {});
  if (!file && config.journal.driver === 'postgres') {
    journal = await openJournal(config);
  } else {
    const sqlite = file ?? sqliteFile(config);
    // Opening a missing file would create an empty journal and record nothing, silently.
    if (!existsSync(sqlite)) throw new UsageError(`no journal at ${sqlite} (give --journal FILE or --config)`);
    journal = new SqliteJournal(sqlite, { keyring: recordKeyring(config, sqlite) });
  }
  try {
    const types = v.type as string[] | undefined;
    const rec = await recordSuite({
      journal, since, ...(until ? { until } : {}), pseudonymize: !!v.pseudonymize,
      ...(types?.length ? { types } : {}), ...(str(v, 'suite-id') ? { suiteId: str(v, 'suite-id')! } : {}),
    });
    if (out === '-') io.out(rec.yaml);
    else writeOut(out, rec.yaml);
    const left = Object.entries(rec.leftOut).map(([k, n]) => `${n} ${k}`).join('; ');
    const pseudo = Object.entries(rec.pseudonymised).map(([k, n]) => `${n} ${k}`).join(', ');
    const dependent = rec.dependentCases ? `; ${rec.dependentCases} case(s) written as skipped: they depend on central state the recording does not recreate` : '';
    io.err(`recorded ${rec.messages} message(s) into ${rec.cases} case(s)${out === '-' ? '' : ` in ${out}`}${left ? `; left out: ${left}` : ''}${dependent}${v.pseudonymize ? `; pseudonymised: ${pseudo || 'nothing found'}` : ''}\n`);
    return 0;
  } finally {
    await journal.close();
  }
}

/** The `conformance` command. */
export const conformanceCommand: Command = {
  help: CONFORMANCE_HELP,
  options: {
    gateway: { type: 'string' }, 'mock-control': { type: 'string' }, seed: { type: 'string' }, 'run-id': { type: 'string' },
    grep: { type: 'string' }, 'keep-going': { type: 'boolean' }, timeout: { type: 'string' }, token: { type: 'string' },
    'webhook-port': { type: 'string' }, 'webhook-receiver': { type: 'string' }, 'webhook-secret': { type: 'string' }, 'reset-mock': { type: 'boolean' },
    junit: { type: 'string' }, html: { type: 'string' }, json: { type: 'string' }, statement: { type: 'string' },
    key: { type: 'string' }, cert: { type: 'string' }, p12: { type: 'string' }, passphrase: { type: 'string' },
    config: { type: 'string' }, verbose: { type: 'boolean' },
    since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' }, pseudonymize: { type: 'boolean' },
    type: { type: 'string', multiple: true }, journal: { type: 'string' }, 'suite-id': { type: 'string' },
  },
  async run(values, positionals, io) {
    const [sub, ...rest] = positionals;
    try {
      if (sub === 'run') return await runCommand(values, rest, io);
      if (sub === 'record') {
        if (rest.length) throw new UsageError(`record takes no file arguments (got ${rest.join(' ')})`);
        return await recordCommand(values, io);
      }
      if (sub === 'help') {
        io.out(CONFORMANCE_HELP);
        return 0;
      }
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'run or record?');
    } catch (err) {
      if (err instanceof UsageError || err instanceof RecordError) {
        io.err(`davis conformance: ${err.message}\n`);
        return 2;
      }
      if (isDavisError(err) && (err.code.startsWith('DAVIS_ERR_PKI') || err.code.startsWith('DAVIS_ERR_CONFIG'))) {
        io.err(`davis conformance: ${err.code}: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
  },
};
