/** `davis retention run [--dry-run]`: one retention run on the configured journal. */
import { auditStoreOf } from '../../audit/open-audit';
import { loadConfig } from '../../config/config';
import { Retention } from '../../exchange/retention';
import { openJournal } from '../../journal/open-journal';
import { createLogger } from '../../ops/logger';
import { configFileOf, configOption, usageError, type Command } from '../command';

const HELP = `Usage: davis retention run [--dry-run] [--config FILE]

Runs retention once on the journal of the configuration, as the gateway does every
retention.intervalMs: the personal data (wire XML, central's answer XML and data) of
messages settled more than retention.payloadDays ago is purged; messages created more than
retention.recordDays ago are deleted with their history, and so are audit records stamped
before that cutoff (from the start of the log, as far as the newest signed checkpoint
reaches; their seq and hash stay in audit_pruned). Batches of retention.batchSize,
so running gateways keep working. The run is recorded (retention.purge); the audit log
still verifies afterwards (davis audit verify). --dry-run counts what would go and changes
nothing. See docs/audit.md for the periods and their legal basis.

Exit codes: 0 done, 2 cannot (usage, configuration, journal unreachable).
`;

export const retentionCommand: Command = {
  options: { 'dry-run': { type: 'boolean' }, ...configOption },
  help: HELP,
  async run(v, args, io) {
    if (args[0] !== 'run') throw usageError(args[0] ? `unknown subcommand "${args[0]}" (run)` : 'a subcommand is required: run');
    if (args.length !== 1) throw usageError(`run: unexpected argument "${args[1]}"`);
    const config = loadConfig(configFileOf(v));
    const journal = await openJournal(config);
    try {
      const audit = auditStoreOf(journal);
      await audit.ready();
      const retention = new Retention({ journal, audit, policy: config.retention, logger: createLogger('warn') });
      const r = await retention.run({ dryRun: v['dry-run'] === true, actor: { clientId: 'operator' } });
      const verb = r.dryRun ? 'would purge' : 'purged';
      io.out(`retention: ${verb} the payloads of ${r.payloads} message(s) settled before ${r.payloadCutoff}; `
        + `${r.dryRun ? 'would delete' : 'deleted'} ${r.messages} message(s) created before ${r.recordCutoff}`
        + ` and ${r.auditRecords} audit record(s)\n`);
      return 0;
    } finally {
      await journal.close();
    }
  },
};
