import { DavisError, ERRORS, formatDetail, isTransportError, reachesAtLeast, SEVERITIES } from '../../src/errors/errors';

describe('error templates and severities', () => {
  test('a template is filled with the parameters given, which stay on the error', () => {
    const err = new DavisError('DAVIS_ERR_QUEUE_FULL', { backlog: 120, limit: 100 });
    expect(err.message).toBe('120 messages are waiting for central (limit 100)');
    expect(err.params).toEqual({ backlog: 120, limit: 100 });
    expect(err.status).toBe(503);
  });

  test('a missing parameter shows as its placeholder; no parameters give the title', () => {
    expect(formatDetail('a {x} b {y}', { x: 1 })).toBe('a 1 b {y}');
    expect(new DavisError('DAVIS_ERR_NOT_FOUND').message).toBe(ERRORS.DAVIS_ERR_NOT_FOUND.title);
  });

  test('the cause is kept', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', { reason: 'ECONNREFUSED' }, { cause }).cause).toBe(cause);
  });

  test('transport codes carry their default severity, a call site may narrow it', () => {
    expect(new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', { reason: 'x' }).severity).toBe('connection');
    expect(new DavisError('DAVIS_ERR_CENTRAL_ANSWER', { reason: 'x' }).severity).toBe('message');
    const nack = new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: 'x' }, { severity: 'message' });
    expect([isTransportError(nack), reachesAtLeast(nack, 'channel')]).toEqual([true, false]);
    const channel = new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: 'x' }, { severity: 'channel' });
    expect([reachesAtLeast(channel, 'channel'), reachesAtLeast(channel, 'connection')]).toEqual([true, false]);
    expect(isTransportError(new DavisError('DAVIS_ERR_VALIDATION_FAILED', { count: 1 }))).toBe(false);
    expect(isTransportError(new Error('plain'))).toBe(false);
    expect(SEVERITIES).toEqual(['message', 'channel', 'connection']);
  });

  test.each(Object.entries(ERRORS).filter(([, s]) => 'detail' in s))('%s has a template whose placeholders are words', (_code, spec) => {
    const detail = (spec as { detail: string }).detail;
    expect(detail.replace(/\{\w+\}/g, '')).not.toMatch(/[{}]/);
  });
});
