import type { Migration } from './migration';

/**
 * The audit trail (Reg. (EC) 767/2008 Art 34): `audit_records`, hash-chained and append-only
 * (a trigger refuses UPDATE; DELETE stays possible for retention, which the chain's
 * checkpoints make visible); `audit_checkpoints`, the signed Merkle checkpoints, which
 * refuse UPDATE and DELETE; `audit_timestamps`, their RFC 3161 tokens. See `src/audit/`.
 */
export const audit: Migration = {
  version: 4,
  name: 'audit',
  sqlite: `
CREATE TABLE audit_records (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  operation TEXT NOT NULL,
  purpose TEXT NOT NULL,
  data_categories TEXT NOT NULL,
  query_categories TEXT,
  client_id TEXT NOT NULL,
  authority TEXT,
  staff TEXT,
  message_id TEXT,
  message_type TEXT,
  outcome TEXT NOT NULL,
  content_digest TEXT,
  correlation_id TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_records_message ON audit_records (message_id, seq);
CREATE INDEX audit_records_at ON audit_records (at, seq);
CREATE TRIGGER audit_records_append_only BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TABLE audit_checkpoints (
  size INTEGER PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE,
  document TEXT NOT NULL,
  frontier TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TABLE audit_timestamps (
  size INTEGER PRIMARY KEY,
  token BLOB NOT NULL,
  created_at TEXT NOT NULL
);
`,
  postgres: `
CREATE TABLE {schema}.audit_records (
  seq BIGINT PRIMARY KEY,
  at TEXT COLLATE "C" NOT NULL,
  operation TEXT NOT NULL,
  purpose TEXT NOT NULL,
  data_categories TEXT NOT NULL,
  query_categories TEXT,
  client_id TEXT NOT NULL,
  authority TEXT,
  staff TEXT,
  message_id TEXT COLLATE "C",
  message_type TEXT,
  outcome TEXT NOT NULL,
  content_digest TEXT,
  correlation_id TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_records_message ON {schema}.audit_records (message_id, seq);
CREATE INDEX audit_records_at ON {schema}.audit_records (at, seq);
CREATE TABLE {schema}.audit_checkpoints (
  size BIGINT PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE,
  document TEXT NOT NULL,
  frontier TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE {schema}.audit_timestamps (
  size BIGINT PRIMARY KEY,
  token BYTEA NOT NULL,
  created_at TEXT NOT NULL
);
CREATE FUNCTION {schema}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'audit tables are append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE ON {schema}.audit_records
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_append_only();
`,
};
