import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';

/**
 * docker-compose.yml, checked by Debian's docker-compose (1.29; no engine is needed for
 * `config`): the default topology and the HA profile validate, and the HA profile is the one
 * docs/operations.md describes.
 */
const ROOT = path.join(__dirname, '..', '..');
const run = promisify(execFile);
const compose = (...args: string[]) => run('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), ...args], { cwd: ROOT, env: { ...process.env, COMPOSE_PROJECT_NAME: 'davis' } });

type Service = { profiles?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown>; volumes?: string[]; image?: string; build?: { target?: string } };

describe('docker-compose.yml', () => {
  test('the default topology validates; its production-mode gateway has a journal key', async () => {
    await expect(compose('config', '-q')).resolves.toBeDefined();
    const services = (YAML.parse((await compose('config')).stdout) as { services: Record<string, Service> }).services;
    expect(services.gateway.environment?.DAVIS_JOURNAL_KEY_FILE).toBe('/pki/journal.key');
    expect(Object.keys(services.gateway.depends_on ?? {})).toContain('journal-key');
    expect(services['journal-key'].profiles).toBeUndefined();
  });

  test('the ha profile validates', async () => {
    await expect(compose('--profile', 'ha', 'config', '-q')).resolves.toBeDefined();
  });

  test('a broken file is refused (the check can fail)', async () => {
    const bad = path.join(ROOT, 'test', 'ops', 'fixtures', 'compose-broken.yml');
    await expect(run('docker-compose', ['-f', bad, 'config', '-q'], { cwd: ROOT })).rejects.toBeDefined();
  });

  test('ha: three clustered RabbitMQ nodes, two gateways that know every node and share one journal key, a load balancer', async () => {
    const { stdout } = await compose('--profile', 'ha', 'config');
    const services = (YAML.parse(stdout) as { services: Record<string, Service> }).services;
    const ha = Object.entries(services).filter(([, s]) => s.profiles?.includes('ha')).map(([n]) => n).sort();
    expect(ha).toEqual(['gateway-1', 'gateway-2', 'lb', 'rabbit-1', 'rabbit-2', 'rabbit-3']);
    const cookies = ['rabbit-1', 'rabbit-2', 'rabbit-3'].map((n) => services[n].environment?.RABBITMQ_ERLANG_COOKIE);
    expect(new Set(cookies).size).toBe(1);
    expect(cookies[0]).toBeTruthy();
    for (const n of ['rabbit-1', 'rabbit-2', 'rabbit-3']) expect(services[n].volumes?.some((v) => v.includes('rabbitmq-cluster.conf'))).toBe(true);
    for (const n of ['gateway-1', 'gateway-2']) {
      const g = services[n];
      expect(g.build?.target).toBe('gateway');
      expect(g.environment?.AMQP_URL?.split(',')).toHaveLength(3);
      expect(g.environment?.DAVIS_JOURNAL_KEY_FILE).toBe('/pki/journal.key');
      expect(Object.keys(g.depends_on ?? {})).toEqual(expect.arrayContaining(['rabbit-1', 'rabbit-2', 'rabbit-3', 'postgres']));
    }
    expect(services.lb.volumes?.some((v) => v.includes('haproxy.cfg'))).toBe(true);
  });
});
