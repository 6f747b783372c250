/**
 * The bench's baseline gateway: `davis serve` with the use cases' Art 34 records going
 * nowhere, so that `bench/run.ts` can measure, in the same run, what the audit trail costs
 * per message (`audit_overhead_ratio`). Never shipped or started outside the bench.
 *
 * Usage: node dist/bench/serve-without-audit.js CONFIG.json
 */
import { openGateway } from '../src/app/gateway';
import type { AuditEvent, AuditLog, AuditRecord } from '../src/audit/audit';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/ops/logger';

const nowhere: AuditLog = {
  record: async (e: AuditEvent): Promise<AuditRecord> => ({ ...e, seq: 0, at: '', prevHash: '', hash: '' }),
  list: async () => [],
};

async function main(): Promise<void> {
  const config = loadConfig({ file: process.argv[2] });
  const logger = createLogger(config.log.level);
  const gw = await openGateway(config, logger, { auditLog: nowhere });
  await gw.start();
  process.stdout.write(`listening on ${gw.url} (audit records off: bench baseline)\n`);
  const stop = (): void => { void gw.stop().then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
