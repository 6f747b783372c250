import { redactUrl, sqliteFile, type Config } from '../config/config';
import { DavisError } from '../errors/errors';
import type { Journal } from './journal';
import { PostgresJournal } from './journal-postgres';
import { SqliteJournal } from './journal-sqlite';

/**
 * Opens the journal that `config.journal.driver` names: the embedded SQLite file under
 * `dataDir` (`sqlite`), or the tables in schema `davis` of `journal.postgresUrl` (`postgres`),
 * created if absent. The caller owns the journal and closes it.
 *
 * @throws DavisError DAVIS_ERR_JOURNAL_UNAVAILABLE when the journal cannot be opened; the
 *   driver's error is the `cause`, and the message never shows the URL's password
 */
export async function openJournal(config: Config): Promise<Journal> {
  const { driver, postgresUrl } = config.journal;
  try {
    if (driver === 'postgres') return await PostgresJournal.open(postgresUrl);
    return new SqliteJournal(sqliteFile(config));
  } catch (err) {
    const where = driver === 'postgres' ? `PostgreSQL at ${redactUrl(postgresUrl)}` : `SQLite file ${sqliteFile(config)}`;
    throw new DavisError('DAVIS_ERR_JOURNAL_UNAVAILABLE', { action: 'open', reason: `${where}: ${(err as Error).message}` }, { cause: err });
  }
}
