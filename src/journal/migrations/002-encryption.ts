import type { Migration } from './migration';

/**
 * Encryption at rest: `key_id` names the key a row's sealed values (`wire_xml`,
 * `answer_json`, `response_xml`) are sealed with; NULL marks a row stored in clear (written
 * by 0.1.0), which `davis journal migrate` and `davis journal rekey` seal. In PostgreSQL
 * `answer_json` becomes text, since a sealed value is not JSON.
 */
export const encryption: Migration = {
  version: 2,
  name: 'encryption',
  sqlite: `
ALTER TABLE messages ADD COLUMN key_id TEXT;
`,
  postgres: `
ALTER TABLE {schema}.messages ADD COLUMN key_id TEXT;
ALTER TABLE {schema}.messages ALTER COLUMN answer_json TYPE TEXT USING answer_json::text;
`,
};
