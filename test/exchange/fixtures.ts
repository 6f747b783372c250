/**
 * What the use-case tests share: a real SQLite journal in a temp dir, the memory broker, a
 * scripted central (the central port, our own), a signing key made by openssl, and messages
 * journaled the way ingest journals them.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { CentralClient, CentralHttpAnswer } from '../../src/central/central';
import { DavisError } from '../../src/errors/errors';
import type { MessageRecord, MessageState } from '../../src/journal/journal';
import { SqliteJournal } from '../../src/journal/journal-sqlite';
import { loadSigningKey } from '../../src/signing';
import type { SigningKey } from '../../src/signing/types';
import type { CentralAnswer } from '../../src/wire/types';
import { until } from '../queue/port-harness';

export { until, sleep } from '../queue/port-harness';

export const silent: Logger = pino({ level: 'silent' });

/** A temporary directory, removed with `rmSync` by the caller (see {@link Scratch}). */
export function tempDir(tag: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `davis-${tag}-`));
}

/** A real SQLite journal in a temp dir of its own. */
export class Scratch {
  readonly dir = tempDir('exchange');
  readonly journal = new SqliteJournal(path.join(this.dir, 'journal.db'));

  async close(): Promise<void> {
    await this.journal.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Journals an outbound message in state `accepted`, as ingest does before it publishes. */
  async insert(orderingKey: string, over: { id?: string; type?: string; wireXml?: string; staff?: string } = {}): Promise<string> {
    const id = over.id ?? randomUUID();
    await this.journal.insert({
      id, type: over.type ?? 'vis.application.create', direction: 'outbound', orderingKey, clientId: 'test-client',
      bodyHash: 'b'.repeat(64), wireXml: over.wireXml ?? `<Request id="${id}"/>`, correlationId: `corr-${id}`,
      ...(over.staff !== undefined ? { staff: over.staff } : {}),
    });
    return id;
  }

  async record(id: string): Promise<MessageRecord> {
    const rec = await this.journal.get(id);
    if (!rec) throw new Error(`no journal record ${id}`);
    return rec;
  }

  /** Waits until the message is in `state`, and returns its record. */
  async reaches(id: string, state: MessageState, timeoutMs = 10000): Promise<MessageRecord> {
    return until(`${id} ${state}`, async () => {
      const rec = await this.journal.get(id);
      return rec?.state === state ? rec : undefined;
    }, timeoutMs);
  }
}

/** The work item of a journaled message. */
export function workOf(rec: MessageRecord): { messageId: string; type: string; orderingKey: string; correlationId: string } {
  return { messageId: rec.id, type: rec.type, orderingKey: rec.orderingKey, correlationId: rec.correlationId };
}

/**
 * A scripted central. The answer body is the JSON of a {@link CentralAnswer}, read back by
 * {@link readJsonAnswer}: verifying central's signature is the injected reader's job, not the
 * dispatcher's, so the tests of the dispatcher need no signed XML.
 */
export class FakeCentral implements CentralClient {
  /** Message ids in the order central received them. */
  readonly sent: string[] = [];
  probes = 0;
  /** While true, every send fails as an unreachable central would, and probes fail. */
  down = false;
  /** How central answers one message; the default accepts it. */
  answer: (messageId: string, attempt: number) => CentralHttpAnswer = (id) => accepted(id);

  async send(_xml: string, messageId: string): Promise<CentralHttpAnswer> {
    this.sent.push(messageId);
    if (this.down) throw new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', 'central transport: ECONNREFUSED');
    return this.answer(messageId, this.sent.filter((s) => s === messageId).length);
  }

  async probe(): Promise<void> {
    this.probes++;
    if (this.down) throw new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', 'central transport: ECONNREFUSED');
  }

  close(): void { /* holds no connections */ }

  /** How many times central received a message. */
  count(messageId: string): number {
    return this.sent.filter((s) => s === messageId).length;
  }
}

function answerOf(inReplyTo: string, over: Partial<CentralAnswer>): CentralHttpAnswer {
  const answer: CentralAnswer = { responseId: randomUUID(), inReplyTo, result: 'ACCEPTED', code: 'OK', created: new Date().toISOString(), ...over };
  return { status: 200, body: JSON.stringify(answer) };
}

export function accepted(inReplyTo: string): CentralHttpAnswer {
  return answerOf(inReplyTo, { centralReference: `VIS-${inReplyTo.slice(0, 8)}` });
}

export function rejected(inReplyTo: string, code = 'VIS_ERR_DUPLICATE_APPLICATION', reason = 'an application with this number exists'): CentralHttpAnswer {
  return answerOf(inReplyTo, { result: 'REJECTED', code, reason });
}

/** The answer reader given to the dispatcher: anything that is not an answer's JSON is unverifiable. */
export function readJsonAnswer(body: string): CentralAnswer {
  try {
    const a = JSON.parse(body) as { inReplyTo?: unknown; result?: unknown };
    if (typeof a.inReplyTo === 'string' && (a.result === 'ACCEPTED' || a.result === 'REJECTED')) return a as CentralAnswer;
  } catch { /* refused below */ }
  throw new DavisError('DAVIS_ERR_SIG_MISSING', 'not a signed answer');
}

let key: SigningKey | undefined;
/** An RSA-2048 key with a self-signed certificate, made by openssl once per test file. */
export function signingKey(): SigningKey {
  if (!key) {
    const dir = tempDir('key');
    try {
      const keyFile = path.join(dir, 'key.pem');
      const certFile = path.join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
        '-subj', '/CN=davis-gateway-test', '-days', '2', '-addext', 'keyUsage=critical,digitalSignature'], { stdio: 'pipe' });
      key = loadSigningKey({ keyFile, certFile });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return key;
}
