/** `davis journal migrate [--status]` and `davis journal rekey`: the journal's schema and keys. */
import { loadConfig, redactUrl, sqliteFile, type Config } from '../../config/config';
import { SCHEMA_VERSION } from '../../journal/migrations';
import { journalMigrationStatus, openJournal } from '../../journal/open-journal';
import { configFileOf, configOption, type Command, type Io, type Values } from '../command';

const HELP = `Usage: davis journal migrate [--status] [--config FILE]
       davis journal rekey [--batch N] [--config FILE]

migrate    applies the journal migrations this release holds (what every gateway also does
           at start, under a lock), adopting a journal written by 0.1.0, then seals the rows
           0.1.0 stored in clear with the current key. --status prints what is applied and
           what is pending, and changes nothing.
rekey      reseals every row not under the current key (journal.keyFile's first line or
           DAVIS_JOURNAL_KEY) with it, in batches, while gateways keep running; previous
           keys (later lines of journal.keyFile, journal.previousKeys) must still be
           configured. Prints how many rows were resealed, from which key.

The journal is the one the configuration names (journal.driver: the SQLite file under
dataDir, or schema "davis" of journal.postgresUrl). See docs/journal.md.

Options:
  --status        (migrate) show applied and pending migrations only
  --batch N       (rekey) rows per transaction [default: 500]
  --config FILE   JSON configuration file
  --help          this text
Exit codes: 0 done, 2 cannot (usage, configuration, journal unreachable, schema newer than
this release, key missing or wrong).
`;

/** A usage problem: `main.ts` prints the one line and exits 2. */
class UsageError extends Error {
  readonly code = 'USAGE';
}

function where(config: Config): string {
  return config.journal.driver === 'postgres' ? `PostgreSQL ${redactUrl(config.journal.postgresUrl)} schema davis` : sqliteFile(config);
}

const pad = (v: number): string => String(v).padStart(3, '0');

async function status(config: Config, io: Io): Promise<number> {
  const st = await journalMigrationStatus(config);
  const lines = [`journal ${where(config)}: schema version ${st.applied.at(-1)?.version ?? 0}, this release writes ${SCHEMA_VERSION}`];
  if (st.empty) lines.push('  no journal yet: every migration is pending');
  if (st.legacy) lines.push('  written by 0.1.0 (no schema_migrations): adopted as version 1 by the next migrate or start');
  for (const a of st.applied) lines.push(`  applied  ${pad(a.version)} ${a.name}  ${a.appliedAt}`);
  for (const m of st.pending) lines.push(`  pending  ${pad(m.version)} ${m.name}`);
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

async function migrate(config: Config, io: Io): Promise<number> {
  const j = await openJournal(config);
  try {
    const m = j.migration;
    const sealed = await j.rekey({ clearOnly: true });
    const did = m.applied.length ? `applied ${m.applied.map(pad).join(', ')}` : 'nothing to apply';
    io.out(`journal ${where(config)}: ${did}; schema version ${m.version}${m.adopted ? '; adopted a 0.1.0 journal' : ''}`
      + `${sealed.rewritten ? `; sealed ${sealed.rewritten} row(s) stored in clear with key ${sealed.keyId}` : ''}\n`);
    return 0;
  } finally {
    await j.close();
  }
}

async function rekey(config: Config, v: Values, io: Io): Promise<number> {
  const raw = v.batch;
  const batchSize = raw === undefined ? undefined : /^[1-9]\d{0,5}$/.test(String(raw)) ? Number(raw) : NaN;
  if (Number.isNaN(batchSize)) throw new UsageError('--batch must be an integer from 1 to 999999');
  const j = await openJournal(config);
  try {
    const r = await j.rekey(batchSize ? { batchSize } : {});
    const from = Object.entries(r.fromKeys).map(([k, n]) => `${n} from ${k}`).join(', ');
    const counts = Object.entries(await j.keyCounts()).map(([k, n]) => `${k}: ${n}`).join(', ');
    io.out(`journal ${where(config)}: resealed ${r.rewritten} row(s) with key ${r.keyId}${from ? ` (${from})` : ''} in ${r.batches} batch(es); rows by key: ${counts || 'none'}\n`);
    return 0;
  } finally {
    await j.close();
  }
}

export const journalCommand: Command = {
  options: { ...configOption, status: { type: 'boolean' }, batch: { type: 'string' } },
  help: HELP,
  async run(v, pos, io) {
    const [sub, ...extra] = pos;
    if (sub !== 'migrate' && sub !== 'rekey') throw new UsageError(sub ? `unknown subcommand "${sub}" (migrate or rekey; see --help)` : 'needs a subcommand: migrate or rekey (see --help)');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (sub === 'rekey' && v.status) throw new UsageError('--status goes with migrate, not rekey');
    if (sub === 'migrate' && v.batch !== undefined) throw new UsageError('--batch goes with rekey, not migrate');
    const config = loadConfig(configFileOf(v));
    if (sub === 'rekey') return rekey(config, v, io);
    return v.status ? status(config, io) : migrate(config, io);
  },
};
