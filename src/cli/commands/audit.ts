/** `davis audit verify`: the audit trail checked against itself and its exported checkpoints. */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { PostgresAuditStore } from '../../audit/audit-store-postgres';
import { SqliteAuditStore } from '../../audit/audit-store-sqlite';
import type { AuditStore } from '../../audit/audit-store';
import { CheckpointFileError, readCheckpointFiles } from '../../audit/checkpoints';
import { checkpointDirOf } from '../../audit/open-audit';
import { verifyAuditLog, type AuditVerifyReport } from '../../audit/verify';
import { loadConfig, redactUrl, sqliteFile } from '../../config/config';
import { configFileOf, configOption, type Command, type Io } from '../command';

const HELP = `Usage: davis audit verify [--checkpoints DIR] [--trust CA.pem] [--tsa-trust CA.pem] [--schema NAME] [--json] [--config FILE]

Checks the audit trail in the configured journal (journal.driver: the SQLite file, or the
PostgreSQL schema): every record's hash and its link to the one before, that no record is
missing, inserted or out of order, every checkpoint's signature and RFC 3161 timestamp, that
each checkpoint's Merkle root matches the records it covers, and that the log is not shorter
than its largest checkpoint. The journal is only read; its encryption key is not needed.

  --checkpoints DIR  exported checkpoint files to check against (default: audit.checkpointDir,
                     <dataDir>/audit-checkpoints, when it exists). A copy the database cannot
                     rewrite: only with it are a truncated log or a recomputed chain detected
                     when the database's own checkpoints were replaced too.
  --trust CA.pem     the checkpoint signer's certificate must chain to this CA
  --tsa-trust CA.pem the timestamp authority's certificate must chain to this CA
  --schema NAME      PostgreSQL schema of the journal (default: davis)
  --json             the report as JSON on stdout

Exit codes: 0 verified; 1 a problem, named with the first bad record (modified, deleted,
inserted, reordered, truncated, recomputed) or checkpoint; 2 cannot run.
`;

function certificates(file: string): X509Certificate[] {
  const pem = readFileSync(file, 'utf8');
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}

function usage(message: string): Error {
  return Object.assign(new Error(message), { code: 'USAGE' });
}

function print(report: AuditVerifyReport, io: Io): void {
  for (const w of report.warnings) io.err(`warning: ${w}\n`);
  const p = report.problem;
  if (p) {
    const where = p.seq !== undefined ? `record ${p.seq}` : `checkpoint ${p.checkpoint ?? '?'}`;
    io.out(`${where}: ${p.kind}: ${p.detail}\n`);
    return;
  }
  io.out(`audit trail verified: ${report.records} records, ${report.checkpoints} checkpoints (${report.exported} exported files, ${report.timestamps} timestamps)\n`);
}

export const auditCommand: Command = {
  options: {
    checkpoints: { type: 'string' }, trust: { type: 'string' }, 'tsa-trust': { type: 'string' }, schema: { type: 'string' },
    json: { type: 'boolean' }, ...configOption,
  },
  help: HELP,
  async run(v, args, io) {
    if (args[0] !== 'verify' || args.length !== 1) throw usage(args[0] ? `unknown subcommand "${args.join(' ')}" (try: davis audit verify)` : 'a subcommand is required: verify');
    const config = loadConfig(configFileOf(v));
    const dir = v.checkpoints !== undefined ? String(v.checkpoints) : checkpointDirOf(config);
    if (v.checkpoints !== undefined && !existsSync(dir)) throw usage(`--checkpoints ${dir}: no such folder`);
    let exported: ReturnType<typeof readCheckpointFiles> | undefined;
    try {
      exported = existsSync(dir) ? readCheckpointFiles(dir) : undefined;
    } catch (err) {
      if (!(err instanceof CheckpointFileError)) throw err;
      io.out(`exported checkpoint ${err.message}\n`);
      return 1;
    }
    const trust = v.trust ? certificates(String(v.trust)) : undefined;
    const tsaTrust = v['tsa-trust'] ? certificates(String(v['tsa-trust'])) : undefined;
    let store: AuditStore;
    let close: () => Promise<void>;
    if (config.journal.driver === 'postgres') {
      try {
        ({ store, close } = await PostgresAuditStore.connect(config.journal.postgresUrl, v.schema ? String(v.schema) : 'davis'));
      } catch (err) {
        io.err(`davis audit: cannot reach PostgreSQL at ${redactUrl(config.journal.postgresUrl)}: ${(err as Error).message}\n`);
        return 2;
      }
    } else {
      const file = sqliteFile(config);
      if (!existsSync(file)) {
        io.err(`davis audit: no journal at ${file}\n`);
        return 2;
      }
      ({ store, close } = SqliteAuditStore.openReadOnly(file));
    }
    try {
      const report = await verifyAuditLog(store, { ...(exported ? { exported } : {}), ...(trust ? { trust } : {}), ...(tsaTrust ? { tsaTrust } : {}) });
      if (v.json) io.out(JSON.stringify(report, null, 2) + '\n');
      else print(report, io);
      return report.ok ? 0 : 1;
    } catch (err) {
      const msg = (err as Error).message;
      if (/no such table|does not exist/.test(msg)) {
        io.err(`davis audit: the journal has no audit tables (start the gateway once, or run davis journal migrate): ${msg}\n`);
        return 2;
      }
      throw err;
    } finally {
      await close();
    }
  },
};
