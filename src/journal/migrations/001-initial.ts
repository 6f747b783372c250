import type { Migration } from './migration';

/**
 * The 0.1.0 schema, exactly as that release created it (`CREATE … IF NOT EXISTS`), so that a
 * journal written by 0.1.0, which has these tables but no `schema_migrations`, is adopted by
 * recording this migration over it: nothing of it changes but the missing indexes, if any.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  sqlite: `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  direction TEXT NOT NULL,
  state TEXT NOT NULL,
  ordering_key TEXT NOT NULL,
  client_id TEXT NOT NULL,
  idempotency_key TEXT,
  body_hash TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  wire_xml TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TEXT,
  answer_json TEXT,
  response_xml TEXT,
  webhook_json TEXT
);
CREATE INDEX IF NOT EXISTS messages_created ON messages (created_at, id);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state, created_at);
CREATE INDEX IF NOT EXISTS messages_idem ON messages (client_id, idempotency_key);
CREATE INDEX IF NOT EXISTS messages_order ON messages (ordering_key, seq);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL REFERENCES messages(id),
  state TEXT NOT NULL,
  at TEXT NOT NULL,
  attempt INTEGER,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS events_message ON events (message_id, seq);
`,
  // Times are text ISO strings with COLLATE "C": they come back byte for byte and compare
  // bytewise, as in SQLite, whatever the database's collation.
  postgres: `
CREATE TABLE IF NOT EXISTS {schema}.messages (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  type TEXT NOT NULL,
  direction TEXT NOT NULL,
  state TEXT NOT NULL,
  ordering_key TEXT COLLATE "C" NOT NULL,
  client_id TEXT NOT NULL,
  idempotency_key TEXT,
  body_hash TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  wire_xml TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TEXT COLLATE "C",
  answer_json JSON,
  response_xml TEXT,
  webhook_json JSON
);
CREATE INDEX IF NOT EXISTS messages_created ON {schema}.messages (created_at, id);
CREATE INDEX IF NOT EXISTS messages_state ON {schema}.messages (state, created_at);
CREATE INDEX IF NOT EXISTS messages_idem ON {schema}.messages (client_id, idempotency_key);
CREATE INDEX IF NOT EXISTS messages_order ON {schema}.messages (ordering_key, seq);
CREATE TABLE IF NOT EXISTS {schema}.events (
  seq BIGSERIAL PRIMARY KEY,
  message_id TEXT COLLATE "C" NOT NULL REFERENCES {schema}.messages(id),
  state TEXT NOT NULL,
  at TEXT COLLATE "C" NOT NULL,
  attempt INTEGER,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS events_message ON {schema}.events (message_id, seq);
`,
};
