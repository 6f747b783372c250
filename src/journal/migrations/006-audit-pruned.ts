import type { Migration } from './migration';

/**
 * Retention of audit records (Reg. (EC) 767/2008 Art 34(2): erased one year after the Art 23
 * period). A pruned record's content goes; its seq and hash stay in `audit_pruned`, so the
 * chain still starts from a known hash and the checkpoints' Merkle roots can still be
 * recomputed. The 32-byte hashes are not records and hold no personal data.
 *
 * `audit_records` now refuses DELETE (and, on PostgreSQL, TRUNCATE) unless the row's seq and
 * hash are already in `audit_pruned` and a checkpoint covers it: the only way past the
 * trigger is the one the store's `deleteRecordsBefore` takes. Someone who drops the triggers
 * and deletes rows leaves no `audit_pruned` entry, which `davis audit verify` names as
 * deleted. `audit_pruned` refuses UPDATE and DELETE.
 */
export const auditPruned: Migration = {
  version: 6,
  name: 'audit-pruned',
  sqlite: `
CREATE TABLE audit_pruned (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  pruned_at TEXT NOT NULL
);
CREATE TRIGGER audit_pruned_no_update BEFORE UPDATE ON audit_pruned
  BEGIN SELECT RAISE(ABORT, 'audit_pruned is append-only'); END;
CREATE TRIGGER audit_pruned_no_delete BEFORE DELETE ON audit_pruned
  BEGIN SELECT RAISE(ABORT, 'audit_pruned is append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
  WHEN NOT EXISTS (SELECT 1 FROM audit_pruned p WHERE p.seq = OLD.seq AND p.hash = OLD.hash)
    OR OLD.seq > (SELECT coalesce(max(size), 0) FROM audit_checkpoints)
  BEGIN SELECT RAISE(ABORT, 'audit records are deleted only by retention, once pruned and checkpointed'); END;
`,
  postgres: `
CREATE TABLE {schema}.audit_pruned (
  seq BIGINT PRIMARY KEY,
  hash TEXT NOT NULL,
  pruned_at TEXT NOT NULL
);
CREATE TRIGGER audit_pruned_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_pruned
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_append_only();
CREATE TRIGGER audit_pruned_no_truncate BEFORE TRUNCATE ON {schema}.audit_pruned
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_append_only();
CREATE FUNCTION {schema}.audit_records_prunable() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM {schema}.audit_pruned p WHERE p.seq = OLD.seq AND p.hash = OLD.hash)
      OR OLD.seq > (SELECT coalesce(max(size), 0) FROM {schema}.audit_checkpoints) THEN
      RAISE EXCEPTION 'audit records are deleted only by retention, once pruned and checkpointed (record %)', OLD.seq;
    END IF;
    RETURN OLD;
  END $$;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON {schema}.audit_records
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_records_prunable();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON {schema}.audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_append_only();
`,
};
