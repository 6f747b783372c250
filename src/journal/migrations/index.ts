import { initial } from './001-initial';
import { encryption } from './002-encryption';
import { retention } from './003-retention';
import { audit } from './004-audit';
import { cluster } from './005-cluster';
import { auditPruned } from './006-audit-pruned';
import { orderWait } from './007-order-wait';
import { scaleIndexes } from './008-scale-indexes';
import { checkMigrationList, type Migration } from './migration';

/**
 * Every journal migration, in version order. To change the schema, add a file
 * `NNN-name.ts` exporting a {@link Migration} with the next version and both dialects' SQL,
 * and one line here. Never edit a released migration: add another.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  initial,
  encryption,
  retention,
  audit,
  cluster,
  auditPruned,
  orderWait,
  scaleIndexes,
]);

checkMigrationList(MIGRATIONS);

/** The schema version this release writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export { checksumOf, pendingMigrations, type AppliedMigration, type Dialect, type Migration, type MigrationResult, type MigrationStatus } from './migration';
