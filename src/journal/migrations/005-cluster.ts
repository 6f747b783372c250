import type { Migration } from './migration';

/**
 * Several gateways on one journal.
 *
 * - One live message per client and idempotency key, enforced by the store: two gateways
 *   taking the same key at the same moment both try to insert, one wins, and the other reads
 *   the winner's message (`IngestService.submit`). A `refused` message (answered 503, never
 *   sent) leaves the index, so the key can be used again. Before the index is built, older
 *   live duplicates (left by that race in 0.1.0) lose their key; the newest keeps it, which is
 *   the one a replay answered before.
 * - `relay_lease_until`: the outbox relay claims the messages it publishes until then, so two
 *   gateways' relays never publish the same message at the same time; a relay that died
 *   leaves its claim to expire. The partial index keeps the relay's scan to the few messages
 *   still `accepted`.
 */
export const cluster: Migration = {
  version: 5,
  name: 'cluster',
  sqlite: `
ALTER TABLE messages ADD COLUMN relay_lease_until TEXT;
UPDATE messages SET idempotency_key = NULL
  WHERE idempotency_key IS NOT NULL AND state <> 'refused' AND EXISTS (
    SELECT 1 FROM messages o WHERE o.client_id = messages.client_id AND o.idempotency_key = messages.idempotency_key
      AND o.state <> 'refused' AND o.seq > messages.seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_idem_live ON messages (client_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND state <> 'refused';
CREATE INDEX IF NOT EXISTS messages_accepted ON messages (seq) WHERE state = 'accepted';
`,
  postgres: `
ALTER TABLE {schema}.messages ADD COLUMN relay_lease_until TEXT COLLATE "C";
UPDATE {schema}.messages m SET idempotency_key = NULL
  WHERE m.idempotency_key IS NOT NULL AND m.state <> 'refused' AND EXISTS (
    SELECT 1 FROM {schema}.messages o WHERE o.client_id = m.client_id AND o.idempotency_key = m.idempotency_key
      AND o.state <> 'refused' AND o.seq > m.seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_idem_live ON {schema}.messages (client_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND state <> 'refused';
CREATE INDEX IF NOT EXISTS messages_accepted ON {schema}.messages (seq) WHERE state = 'accepted';
`,
};
