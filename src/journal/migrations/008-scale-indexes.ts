import type { Migration } from './migration';

/**
 * Indexes that keep the journal's reads as fast at ten million messages as at a hundred
 * thousand (measured by `npm run bench -- --only journal`, `bench/journal-scale.ts`).
 *
 * - `messages_correlation`: the operators' search by correlation id (`GET /v1/messages?correlationId=…`,
 *   the dashboard's search) had no index, so each search read the whole table. It is in the
 *   list's order (creation time, id), so a correlation id that UMA reused for many requests is
 *   read a page at a time, newest first.
 * - `messages_unsettled`: the order check before every send (`hasUnsettledPredecessor`) looks
 *   for an earlier outbound message of the same application that is not settled. Only the
 *   messages in flight are in this index, so the check reads a few entries however long the
 *   application's (and the journal's) history is; a message leaves it when it settles.
 *
 * On PostgreSQL the indexes are built in the migration's transaction, which holds writes to
 * `messages` while they are built (tens of seconds on a journal of ten million messages).
 */
export const scaleIndexes: Migration = {
  version: 8,
  name: 'scale-indexes',
  sqlite: `
CREATE INDEX IF NOT EXISTS messages_correlation ON messages (correlation_id, created_at, id);
CREATE INDEX IF NOT EXISTS messages_unsettled ON messages (ordering_key, seq)
  WHERE direction = 'outbound' AND state NOT IN ('delivered','rejected','failed','refused');
`,
  postgres: `
CREATE INDEX IF NOT EXISTS messages_correlation ON {schema}.messages (correlation_id, created_at, id);
CREATE INDEX IF NOT EXISTS messages_unsettled ON {schema}.messages (ordering_key, seq)
  WHERE direction = 'outbound' AND state NOT IN ('delivered','rejected','failed','refused');
`,
};
