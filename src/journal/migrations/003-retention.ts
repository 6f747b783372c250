import type { Migration } from './migration';

/**
 * Retention: `purged_at` marks a message whose personal data (wire XML, central's response
 * XML, the answer's data) retention has removed (`retention.payloadDays`); the partial index
 * finds the settled messages still holding theirs, oldest settlement first, without scanning
 * those already purged.
 */
export const retention: Migration = {
  version: 3,
  name: 'retention',
  sqlite: `
ALTER TABLE messages ADD COLUMN purged_at TEXT;
CREATE INDEX IF NOT EXISTS messages_unpurged ON messages (updated_at) WHERE purged_at IS NULL;
`,
  postgres: `
ALTER TABLE {schema}.messages ADD COLUMN purged_at TEXT COLLATE "C";
CREATE INDEX IF NOT EXISTS messages_unpurged ON {schema}.messages (updated_at) WHERE purged_at IS NULL;
`,
};
