import type { Migration } from './migration';

/**
 * Messages waiting for an earlier message of their application.
 *
 * - `order_wait_since`: set when the dispatcher finds an unsettled predecessor and lets the
 *   delivery go instead of cycling it through a delay queue; the message is published again
 *   when its predecessor settles (`Journal.nextWaiting`), or by the outbox relay when that
 *   wake was lost (`Journal.strandedWaiting`). The partial index keeps the relay's scan to the
 *   few messages waiting.
 * - `staff`: the staff member who acted (`X-Davis-Staff`), so a message published again by the
 *   relay or after waiting still carries it to its audit record.
 */
export const orderWait: Migration = {
  version: 7,
  name: 'order-wait',
  sqlite: `
ALTER TABLE messages ADD COLUMN order_wait_since TEXT;
ALTER TABLE messages ADD COLUMN staff TEXT;
CREATE INDEX IF NOT EXISTS messages_order_wait ON messages (order_wait_since) WHERE order_wait_since IS NOT NULL;
`,
  postgres: `
ALTER TABLE {schema}.messages ADD COLUMN order_wait_since TEXT COLLATE "C";
ALTER TABLE {schema}.messages ADD COLUMN staff TEXT;
CREATE INDEX IF NOT EXISTS messages_order_wait ON {schema}.messages (order_wait_since) WHERE order_wait_since IS NOT NULL;
`,
};
