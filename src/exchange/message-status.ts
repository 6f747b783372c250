import type { MessageRecord } from '../journal/journal';

/** The status document UMA and operators read: no payload, only states and the central answer. */
export function statusDocument(rec: MessageRecord): Record<string, unknown> {
  return {
    id: rec.id,
    type: rec.type,
    direction: rec.direction,
    status: rec.state,
    orderingKey: rec.orderingKey,
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
    attempts: rec.attempts,
    ...(rec.lastError ? { lastError: rec.lastError } : {}),
    ...(rec.nextAttemptAt ? { nextAttemptAt: rec.nextAttemptAt } : {}),
    history: rec.events.map((e) => ({ status: e.state, at: e.at, ...(e.attempt !== undefined ? { attempt: e.attempt } : {}), ...(e.detail ? { detail: e.detail } : {}) })),
    ...(rec.answer ? {
      central: {
        result: rec.answer.result, code: rec.answer.code,
        ...(rec.answer.centralReference ? { reference: rec.answer.centralReference } : {}),
        ...(rec.answer.reason ? { reason: rec.answer.reason } : {}),
        answeredAt: rec.answer.created, responseId: rec.answer.responseId,
        ...(rec.answer.data ? { data: rec.answer.data } : {}),
      },
    } : {}),
    ...(rec.webhook ? { webhook: rec.webhook } : {}),
    links: { self: `/v1/messages/${rec.id}` },
  };
}
