/**
 * The configuration's entry point: the schema (with defaults and docs) is in `schema.ts`,
 * the merge of defaults ← file ← `DAVIS_*` ← `AMQP_URL`, validation and freezing in `load.ts`.
 */
export { CONFIG_SCHEMA, TOKEN_CLIENT_SCHEMA, type Config, type TokenClient } from './schema';
export { defaultConfig, envVariables, loadConfig, sqliteFile, type ConfigSources } from './load';

/** A URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
