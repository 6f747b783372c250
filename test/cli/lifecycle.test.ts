import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { exitOnUnhandled } from '../../src/cli/lifecycle';
import { createLogger } from '../../src/ops/logger';

describe('exitOnUnhandled', () => {
  function setUp() {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
    const proc = new EventEmitter();
    const exits: number[] = [];
    exitOnUnhandled(createLogger('info', sink), (code) => exits.push(code), proc);
    return { lines, proc, exits };
  }

  test('an unhandled rejection is one fatal log line with its code, message and stack, then exit 1', async () => {
    const { lines, proc, exits } = setUp();
    const err = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    proc.emit('unhandledRejection', err, Promise.resolve());
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 60, msg: 'unhandled promise rejection: the process ends', err: { code: '57P01', message: err.message } });
    expect((lines[0].err as { stack: string }).stack).toContain('lifecycle.test.ts');
  });

  test('an uncaught exception, even one that is not an Error, ends the process the same way', async () => {
    const { lines, proc, exits } = setUp();
    proc.emit('uncaughtException', 'a string thrown');
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1]);
    expect(lines[0]).toMatchObject({ level: 60, msg: 'uncaught exception: the process ends', err: { message: 'a string thrown' } });
  });
});
