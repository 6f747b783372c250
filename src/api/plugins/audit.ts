import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AUDIT_OPERATIONS, type AuditFilter, type AuditOperation } from '../../audit/audit';
import type { AuditStore, StoredCheckpoint } from '../../audit/audit-store';
import { bundleCategories, exportEvidence } from '../../audit/evidence';
import { auditReadEvent, exportEvent, staffOf, type Actor } from '../../audit/records';
import { AUDIT_ROLES } from '../../catalogue/types';
import { DavisError, isDavisError } from '../../errors/errors';
import type { Journal } from '../../journal/journal';
import { clientOf } from './auth';

/** Options of the audit routes. */
export interface AuditRoutesOptions {
  readonly audit: AuditStore;
  readonly journal: Journal;
  /** Makes a checkpoint now, so that fresh records can be proven in an export. */
  readonly checkpoint?: () => Promise<StoredCheckpoint | undefined>;
}

/** Largest page `GET /v1/audit` gives. */
export const MAX_AUDIT_PAGE = 1000;

/** The `GET /v1/audit` query: a repeated, unknown or out-of-range parameter is 422, as for `GET /v1/messages`. */
export const AUDIT_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    messageId: { type: 'string', minLength: 1, maxLength: 200 },
    operation: { type: 'string', enum: [...AUDIT_OPERATIONS] },
    clientId: { type: 'string', minLength: 1, maxLength: 200 },
    from: { type: 'string', anyOf: [{ format: 'date-time' }, { format: 'date' }] },
    to: { type: 'string', anyOf: [{ format: 'date-time' }, { format: 'date' }] },
    afterSeq: { type: 'integer', minimum: 0 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_PAGE },
  },
} as const;

interface AuditQuery {
  messageId?: string; operation?: AuditOperation; clientId?: string; from?: string; to?: string; afterSeq?: number; limit?: number;
}

/** Whether the client may read audit records and evidence (`auditor`, `admin`, the dev client). */
function assertAuditor(req: FastifyRequest): Actor {
  const client = clientOf(req);
  if (!client.all && !client.roles.some((r) => (AUDIT_ROLES as readonly string[]).includes(r))) {
    throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', 'reading audit records and evidence is for the auditor role');
  }
  const staff = staffOf(req.headers['x-davis-staff']);
  return { clientId: client.id, ...(staff !== undefined ? { staff } : {}), correlationId: req.id };
}

async function auditRoutes(app: FastifyInstance, deps: AuditRoutesOptions): Promise<void> {
  app.addHook('onRequest', app.authenticate);
  const ajv = new Ajv({ coerceTypes: true, allErrors: true, removeAdditional: false, useDefaults: false });
  addFormats(ajv, ['date-time', 'date']);
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

  app.get<{ Querystring: AuditQuery }>('/v1/audit', { schema: { querystring: AUDIT_QUERY } }, async (req) => {
    const actor = assertAuditor(req);
    const q = req.query;
    const filter: AuditFilter = {
      ...(q.messageId ? { messageId: q.messageId } : {}), ...(q.operation ? { operation: q.operation } : {}),
      ...(q.clientId ? { clientId: q.clientId } : {}),
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}), ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      ...(q.afterSeq !== undefined ? { afterSeq: q.afterSeq } : {}), limit: q.limit ?? 100,
    };
    const items = await deps.audit.list(filter);
    // The read is recorded before it is answered; the filter's names, never its values.
    await deps.audit.record(auditReadEvent(Object.keys(q), actor, items.length));
    const last = items.at(-1);
    return { items, ...(last && items.length === filter.limit ? { next: { afterSeq: last.seq } } : {}) };
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id/evidence', async (req, reply) => {
    const actor = assertAuditor(req);
    const id = req.params.id;
    let bundle;
    try {
      bundle = await exportEvidence(id, { journal: deps.journal, audit: deps.audit, ...(deps.checkpoint ? { checkpoint: deps.checkpoint } : {}) });
    } catch (err) {
      await deps.audit.record(exportEvent(id, undefined, [], actor, isDavisError(err) ? err.code : 'DAVIS_ERR_INTERNAL'));
      throw err;
    }
    await deps.audit.record(exportEvent(id, bundle.message.type, bundleCategories(bundle), actor, 'ok'));
    reply.header('content-disposition', `attachment; filename="evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`);
    return bundle;
  });
}

/** The auditor's routes: audit records and per-message evidence. Encapsulated; authenticated by one hook. */
export const auditPlugin = fp(auditRoutes, { name: 'davis-audit', fastify: '5.x', dependencies: ['davis-auth'], encapsulate: true });
