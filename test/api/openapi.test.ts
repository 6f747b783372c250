import { listTypes } from '../../src/catalogue/catalogue';
import { ERRORS } from '../../src/errors/errors';
import { startApi, type ApiHarness } from './harness';

/**
 * The routes fastify serves, read from `printRoutes()`: one line per node of the route tree,
 * each level indented by four characters, the node's path segment and its methods.
 */
function routeTable(printed: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line.replace(/\s+$/, ''));
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    for (const method of (m.at(3) ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.add(`${method} ${stack.join('').replace(/:(\w+)/g, '{$1}')}`);
  }
  return out;
}

describe('/docs/openapi.json', () => {
  let h: ApiHarness;
  let doc: Record<string, any>;
  beforeAll(async () => {
    h = await startApi();
    const res = await h.gw.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = JSON.parse(res.body);
  }, 60000);
  afterAll(async () => { await h.stop(); });

  test('describes exactly the routes fastify serves (paths and methods)', () => {
    const served = routeTable(h.gw.app.printRoutes({ commonPrefix: false }));
    expect(served.size).toBeGreaterThan(15);
    expect(served).toContain('GET /v1/messages/{id}');
    const documented = new Set(Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) => Object.keys(ops).filter((k) => k !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`)));
    expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
  });

  test('POST /v1/messages takes one {type: const, payload: $ref} variant per outbound catalogue type', () => {
    const body = doc.paths['/v1/messages'].post.requestBody.content['application/json'];
    expect(body.schema).toEqual({ $ref: '#/components/schemas/Submission' });
    const variants = (doc.components.schemas.Submission.oneOf as { $ref: string }[]).map((r) => doc.components.schemas[r.$ref.replace('#/components/schemas/', '')]);
    const outbound = listTypes({ direction: 'outbound' }).map((t) => t.id);
    expect(variants.map((v) => v.properties.type.const)).toEqual(outbound);
    for (const v of variants) {
      expect(v.properties.payload.$ref).toBe(`#/components/schemas/${v.properties.type.const}`);
      expect(doc.components.schemas[v.properties.type.const].type).toBe('object');
    }
    // every $ref resolves inside the document
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const r of new Set(refs)) {
      const target = JSON.parse(`{${r}}`).$ref as string;
      expect(target.startsWith('#/components/schemas/') && doc.components.schemas[target.slice(21)] !== undefined ? target : `unresolved ${target}`).toBe(target);
    }
    // examples are the valid files of schemas/examples/, one per type that has any
    const examples = Object.values(body.examples as Record<string, { value: { type: string } }>).map((e) => e.value.type);
    expect(new Set(examples).size).toBe(examples.length);
    expect(examples.length).toBeGreaterThanOrEqual(outbound.length - 2);
  });

  test('problem document with every error code, bearer and mutual-TLS schemes, the callbacks as webhooks', () => {
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual(Object.keys(ERRORS));
    for (const [code, e] of Object.entries(ERRORS)) expect(doc.components.schemas.Problem.properties.code.description).toContain(`| ${code} | ${e.status} |`);
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      mutualTLS: expect.objectContaining({ type: 'mutualTLS' }),
    });
    expect(doc.paths['/health/live'].get.security).toEqual([]);
    expect(doc.paths['/v1/central/notifications'].post.security).toEqual([{ mutualTLS: [] }]);
    for (const hook of ['messageOutcome', 'notificationReceived']) {
      const names = (doc.webhooks[hook].post.parameters as { name: string; in: string }[]).map((p) => `${p.in} ${p.name}`);
      expect(names).toEqual(expect.arrayContaining(['header X-Davis-Signature', 'header X-Davis-Event', 'header X-Davis-Message-Id']));
    }
    const notified = doc.components.schemas.WebhookNotification.properties.message.properties.payload.oneOf.map((r: { $ref: string }) => r.$ref.split('/').pop());
    expect(notified).toEqual(listTypes({ direction: 'inbound' }).map((t) => t.id));
  });
});
