/** `davis evidence export ID --out FILE` and `davis evidence verify FILE --trust CA`: the evidence of one message. */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { auditStoreOf, createCheckpointer } from '../../audit/open-audit';
import { bundleCategories, exportEvidence, verifyEvidence, type EvidenceBundle } from '../../audit/evidence';
import { exportEvent, staffOf } from '../../audit/records';
import { loadConfig, type Config } from '../../config/config';
import { isDavisError } from '../../errors/errors';
import { openJournal } from '../../journal/open-journal';
import { createLogger } from '../../ops/logger';
import { loadSigningKey, loadTrustStore } from '../../signing/pki';
import type { SigningKey } from '../../signing/types';
import { configFileOf, configOption, readInput, usageError, type Command, type Io, type Values } from '../command';

const HELP = `Usage: davis evidence export ID --out FILE [--staff ID] [--config FILE]
       davis evidence verify FILE --trust CA.pem|DIR [--tsa-trust TSA-CA.pem]

export   writes the evidence of message ID as one JSON file: the signed request as sent
         (as received, for a central notification), central's signed answer as received
         (none for a notification: the gateway's acknowledgement is not journaled),
         the message's audit records, their RFC 6962 inclusion proof to a signed audit
         checkpoint, and the checkpoint with its RFC 3161 timestamp token. When no
         checkpoint covers the records yet, one is made now (signed with the gateway key
         of the configuration; in dev mode without one, the development PKI's under
         <dataDir>/pki; time-stamped when audit.tsaUrl is set). The journal is read
         directly: on the data folder of davis dev, run it with DAVIS_MODE=dev (the dev
         journal key is <dataDir>/journal.key). The export is itself recorded
         (evidence.export).
verify   checks a bundle offline: both XML signatures (the gateway's strict verifier,
         chained to --trust), that the request is the one the records name, every
         record's hash, every inclusion proof against the checkpoint's root, the
         checkpoint's signature (chained to --trust) and its timestamp token (chained to
         --tsa-trust when given). One line per check. See docs/audit.md.

Options:
  --out FILE        (export) where to write the bundle
  --staff ID        (export) the staff member exporting, recorded with the export
  --trust CA        (verify) CA certificate(s) of the gateway's and central's signing keys
  --tsa-trust CA    (verify) CA certificate of the time-stamping authority
  --config FILE     JSON configuration file
Exit codes: 0 exported / every check passed, 1 a check failed, 2 cannot (usage, unknown
message, unreadable file, journal unreachable).
`;

/**
 * The key an export signs a checkpoint with, when none covers the message's records yet: the
 * configuration's, or in dev mode the development PKI's gateway key that `davis dev` keeps in
 * `<dataDir>/pki` (as the dev journal key beside it). Undefined: the export makes none.
 */
function checkpointKeyOf(config: Config): SigningKey | undefined {
  const s = config.signing;
  if (s.p12File || (s.keyFile && s.certFile)) return loadSigningKey(s);
  if (config.mode !== 'dev') return undefined;
  const keyFile = path.join(config.dataDir, 'pki', 'gateway.key.pem');
  const certFile = path.join(config.dataDir, 'pki', 'gateway.crt.pem');
  return existsSync(keyFile) && existsSync(certFile) ? loadSigningKey({ keyFile, certFile }) : undefined;
}

class UsageError extends Error {
  readonly code = 'USAGE';
}

async function exportCommand(id: string, v: Values, io: Io): Promise<number> {
  if (!v.out) throw new UsageError('export needs --out FILE');
  const staff = staffOf(typeof v.staff === 'string' ? v.staff : undefined);
  const config = loadConfig(configFileOf(v));
  const journal = await openJournal(config);
  try {
    const audit = auditStoreOf(journal);
    await audit.ready();
    const key = checkpointKeyOf(config);
    const checkpointer = key ? createCheckpointer(config, audit, () => key, createLogger('warn')) : undefined;
    const actor = { clientId: 'operator', ...(staff !== undefined ? { staff } : {}) };
    let bundle: EvidenceBundle;
    try {
      bundle = await exportEvidence(id, { journal, audit, ...(checkpointer ? { checkpoint: () => checkpointer.checkpoint() } : {}) });
    } catch (err) {
      await audit.record(exportEvent(id, undefined, [], actor, isDavisError(err) ? err.code : 'DAVIS_ERR_INTERNAL'));
      throw err;
    }
    writeFileSync(String(v.out), `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o600 });
    await audit.record(exportEvent(id, bundle.message.type, bundleCategories(bundle), actor, 'ok'));
    io.out(`${String(v.out)}: evidence of ${id} (${bundle.records.length} audit record(s)${bundle.checkpoint ? `, checkpoint of ${bundle.checkpoint.checkpoint.size}` : ''})\n`);
    for (const m of bundle.missing) io.out(`  not included: ${m}\n`);
    return 0;
  } finally {
    await journal.close();
  }
}

function verifyCommand(file: string, v: Values, io: Io): number {
  if (!v.trust) throw new UsageError('verify needs --trust CA');
  const text = readInput(file, io);
  if (text === undefined) return 2;
  let bundle: EvidenceBundle;
  try {
    bundle = JSON.parse(text) as EvidenceBundle;
  } catch {
    io.out(`${file}: refused: not JSON\n`);
    return 1;
  }
  const tsaTrust = v['tsa-trust'] ? [new X509Certificate(readFileSync(String(v['tsa-trust'])))] : undefined;
  const res = verifyEvidence(bundle, { trust: loadTrustStore(String(v.trust)), ...(tsaTrust ? { tsaTrust } : {}) });
  for (const c of res.checks) io.out(`${c.ok ? 'ok     ' : 'FAILED '} ${c.check}: ${c.detail}\n`);
  io.out(`${file}: ${res.ok ? 'evidence verifies' : 'evidence does NOT verify'}\n`);
  return res.ok ? 0 : 1;
}

export const evidenceCommand: Command = {
  options: { out: { type: 'string' }, staff: { type: 'string' }, trust: { type: 'string' }, 'tsa-trust': { type: 'string' }, ...configOption },
  help: HELP,
  async run(v, args, io) {
    const [sub, target, ...extra] = args;
    if (sub !== 'export' && sub !== 'verify') throw usageError(sub ? `unknown subcommand "${sub}" (export or verify)` : 'a subcommand is required: export ID or verify FILE');
    if (!target) throw usageError(sub === 'export' ? 'export: a message ID is required' : 'verify: an evidence FILE is required');
    if (extra.length) throw usageError(`${sub}: unexpected argument "${extra[0]}"`);
    return sub === 'export' ? exportCommand(target, v, io) : verifyCommand(target, v, io);
  },
};
