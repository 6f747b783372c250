/**
 * `davis`: argument dispatch, usage and exit codes. Each command lives in `commands/`;
 * the production commands never load the mock central VIS or the development PKI (see
 * `dev-tools.ts`).
 *
 * Exit codes: 0 ok, 1 the input is invalid / the check failed, 2 cannot run (usage, config,
 * broker, a development tool missing from this image).
 */
import { parseArgs } from 'node:util';
import { isDavisError } from '../errors/errors';
import { packageVersion } from '../ops/version';
import type { Command, Io, Values } from './command';
import { auditCommand } from './commands/audit';
import { catalogueCommand } from './commands/catalogue';
import { certsCommand } from './commands/certs';
import { conformanceCommand } from './commands/conformance';
import { devCommand } from './commands/dev';
import { evidenceCommand } from './commands/evidence';
import { journalCommand } from './commands/journal';
import { loadCommand } from './commands/load';
import { messagesCommand } from './commands/messages';
import { mockVisCommand } from './commands/mock-vis';
import { retentionCommand } from './commands/retention';
import { serveCommand } from './commands/serve';
import { signCommand } from './commands/sign';
import { statusCommand } from './commands/status';
import { validateCommand } from './commands/validate';
import { verifyCommand } from './commands/verify';
import { DevToolMissing } from './dev-tools';

const USAGE = `davis — the DAVIS gateway between UMA and the central VIS

Usage: davis <command> [options]

Commands:
  dev                  gateway + mock central VIS + dev PKI on this machine (what \`npm start\` runs)
  serve                the gateway alone
  mock-vis             the mock central VIS alone
  validate [--type T] FILE...
                       validate JSON messages ({"type","payload"}), bare payloads of type T, or wire XML;
                       exit 1 if any is invalid
  sign FILE --key K --cert C
                       sign a wire XML document (enveloped XML-DSig); the signed XML goes to stdout
  verify FILE [--trust CA]
                       verify a signed document's signature and signing profile; exit 1 naming the rule
  certs init DIR       create a development PKI (CA, gateway, mock central, one UMA client)
  catalogue [--json]   list every message type
  status [--url U]     a running gateway's health checks, messages by state, circuit, certificate
  messages list|show|retry
                       find, read and re-queue messages of a running gateway
  load --rate N --duration S [--types T1,T2]
                       open-loop load against a running gateway; latency and errors each second
  conformance run FILE...   replay conformance suites against a gateway and mock central
  conformance record --since T --out F
                       turn journaled traffic into a replayable suite
  journal migrate [--status]
                       apply the journal's schema migrations, or show applied and pending
  journal rekey        reseal the journal's personal data with the current key
  audit verify [--checkpoints DIR]
                       check the audit trail: chain, checkpoints, timestamps; exit 1 naming the first bad record
  evidence export ID --out F
                       one message's evidence: signed request and answer, audit records, proof, checkpoint
  evidence verify F --trust CA
                       check an evidence file offline; exit 1 naming the check that failed
  retention run [--dry-run]
                       purge personal data and records past their retention periods

Every command takes --help. Configuration: --config FILE (JSON) and DAVIS_* variables;
see README.md.
`;

const COMMANDS: Readonly<Record<string, Command>> = {
  conformance: conformanceCommand,
  dev: devCommand,
  serve: serveCommand,
  'mock-vis': mockVisCommand,
  validate: validateCommand,
  sign: signCommand,
  verify: verifyCommand,
  certs: certsCommand,
  catalogue: catalogueCommand,
  status: statusCommand,
  messages: messagesCommand,
  load: loadCommand,
  journal: journalCommand,
  audit: auditCommand,
  evidence: evidenceCommand,
  retention: retentionCommand,
};

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
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) {
    io.err(`davis: unknown command "${cmd}" (davis --help lists the commands)\n`);
    return 2;
  }
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    // One line naming the flag (without node's hint about '--'); the whole help is one `--help` away.
    io.err(`davis ${cmd}: ${(err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')} (see davis ${cmd} --help)\n`);
    return 2;
  }
  if (args.values.help) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(args.values as Values, args.positionals, io);
  } catch (err) {
    if (isDavisError(err)) {
      io.err(`davis ${cmd}: ${err.code}: ${err.message.replace(/\s*\n\s*/g, '; ')}\n`);
      return 2;
    }
    if (err instanceof DevToolMissing || (err as { code?: unknown }).code === 'USAGE') {
      io.err(`davis ${cmd}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
