import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, envVariables } from '../../src/config/config';
import { DavisError } from '../../src/errors/errors';

function configError(fn: () => unknown): DavisError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DavisError) return err;
    throw err;
  }
  throw new Error('expected a configuration error');
}

function tmpFile(content: string): string {
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'davis-cfg-')), 'config.json');
  writeFileSync(f, content);
  return f;
}

describe('configuration', () => {
  test('defaults match the documented addresses and are frozen', () => {
    const c = loadConfig({ env: {} });
    expect(c.gateway.port).toBe(8080);
    expect(c.amqp.url).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(c.mock.port).toBe(8443);
    expect(c.mock.controlPort).toBe(8444);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.gateway)).toBe(true);
    expect(() => { (c.gateway as { port: number }).port = 1; }).toThrow(TypeError);
  });

  test('environment variables override the file, the file overrides the defaults', () => {
    const file = tmpFile(JSON.stringify({ gateway: { port: 9000, host: '0.0.0.0' }, central: { maxAttempts: 3 } }));
    const c = loadConfig({ file, env: { DAVIS_PORT: '9100', AMQP_URL: 'amqp://u:p@broker:5672', DAVIS_CENTRAL_TIMEOUT_MS: '2500' } });
    expect(c.gateway.port).toBe(9100);
    expect(c.gateway.host).toBe('0.0.0.0');
    expect(c.central.maxAttempts).toBe(3);
    expect(c.central.timeoutMs).toBe(2500);
    expect(c.amqp.url).toBe('amqp://u:p@broker:5672');
  });

  test('an unknown key in the file stops the start and is named', () => {
    const err = configError(() => loadConfig({ file: tmpFile(JSON.stringify({ gateway: { prot: 1 } })), env: {} }));
    expect(err.code).toBe('DAVIS_ERR_CONFIG_INVALID');
    expect(err.errors?.map((e) => e.pointer)).toEqual(['/gateway/prot']);
  });

  test('a bad value stops the start and names the key', () => {
    const err = configError(() => loadConfig({ env: { DAVIS_PORT: 'eighty' } }));
    expect(err.code).toBe('DAVIS_ERR_CONFIG_INVALID');
    expect(err.errors?.map((e) => [e.pointer, e.variable])).toEqual([['/gateway/port', 'DAVIS_PORT']]);
  });

  test('an unknown DAVIS_ variable is refused (a typo would otherwise be silently ignored)', () => {
    const err = configError(() => loadConfig({ env: { DAVIS_PROT: '8080' } }));
    expect(err.code).toBe('DAVIS_ERR_CONFIG_INVALID');
    expect(err.errors?.map((e) => [e.pointer, e.variable])).toEqual([['', 'DAVIS_PROT']]);
  });

  test('a file that is not JSON is a file error', () => {
    expect(configError(() => loadConfig({ file: tmpFile('{ not json'), env: {} })).code).toBe('DAVIS_ERR_CONFIG_FILE');
    expect(configError(() => loadConfig({ file: '/nonexistent/davis.json', env: {} })).code).toBe('DAVIS_ERR_CONFIG_FILE');
  });

  test('file paths in the file are relative to the file', () => {
    const file = tmpFile(JSON.stringify({ signing: { keyFile: 'keys/k.pem' } }));
    expect(loadConfig({ file, env: {} }).signing.keyFile).toBe(path.join(path.dirname(file), 'keys/k.pem'));
  });

  test('a bad value in the file names its key; several problems are all reported', () => {
    const file = tmpFile(JSON.stringify({ mode: 'staging', central: { maxAttempts: 0 }, amqp: { url: 'http://broker' } }));
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('DAVIS_ERR_CONFIG_INVALID');
    expect(err.errors?.map((e) => e.pointer).sort()).toEqual(['/amqp/url', '/central/maxAttempts', '/mode']);
  });

  test('a file holding something other than an object is a file error', () => {
    expect(configError(() => loadConfig({ file: tmpFile('[1, 2]'), env: {} })).code).toBe('DAVIS_ERR_CONFIG_FILE');
  });

  test('the defaults come from the schema, and a missing section gets all of them', () => {
    const c = loadConfig({ file: tmpFile(JSON.stringify({ central: { timeoutMs: 42 } })), env: {} });
    expect(c.central.retryMaxMs).toBe(300000);
    expect(c.webhook).toEqual({ maxAttempts: 10, retryBaseMs: 1000, retryMaxMs: 300000, timeoutMs: 5000 });
    expect(c.central.timeoutMs).toBe(42);
    expect(c.gateway.tokens).toEqual([]);
    expect(Object.isFrozen(c.gateway.tokens)).toBe(true);
  });

  test('command overrides sit between the defaults and the file', () => {
    const file = tmpFile(JSON.stringify({ log: { level: 'warn' } }));
    const c = loadConfig({ file, env: {}, overrides: { mode: 'dev', log: { level: 'debug' } } });
    expect([c.mode, c.log.level]).toEqual(['dev', 'warn']);
  });

  test('every leaf has an environment variable', () => {
    const vars = envVariables();
    expect(vars.get('DAVIS_CENTRAL_MAX_ATTEMPTS')).toBe('central.maxAttempts');
    expect(vars.get('DAVIS_JOURNAL_SQLITE_PATH')).toBe('journal.sqlitePath');
    expect(vars.get('DAVIS_MOCK_CONTROL_PORT')).toBe('mock.controlPort');
  });
});
