import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');
/** Keys whose values are personal data (names, birth data, documents, addresses, contacts, biometrics). */
const PERSONAL = /name|surname|birth|document|passport|address|street|city|postal|phone|email|occupation|employer|guardian|data$|image|fingerprint/i;

/** Every string (≥ 4 chars) found under a personal-data key anywhere in a payload. */
function personalValues(value: unknown, personal = false, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (personal && value.length >= 4) out.add(value.length > 64 ? value.slice(0, 64) : value);
  } else if (Array.isArray(value)) {
    for (const v of value) personalValues(v, personal, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) personalValues(v, personal || PERSONAL.test(k), out);
  }
  return out;
}

describe('no personal data in any log line', () => {
  let s: Stack;
  beforeAll(async () => { s = await startStack(); });
  afterAll(async () => { await s.stop(); });

  test('accepting, validating, delivering, rejecting and retrying every example leaves no name, birth date or document number in the log', async () => {
    const secrets = new Set<string>();
    const ids: string[] = [];
    for (const type of readdirSync(EXAMPLES)) {
      for (const f of readdirSync(path.join(EXAMPLES, type)).filter((n) => n.endsWith('.json') && !n.endsWith('.expect.json'))) {
        const payload = JSON.parse(readFileSync(path.join(EXAMPLES, type, f), 'utf8'));
        for (const v of personalValues(payload)) secrets.add(v);
        const r = await api(s.url, 'POST', '/v1/messages', { type, payload });
        if (r.status === 202) ids.push(r.json.id);
      }
    }
    // A retry and a rejection on top: their log lines carry error details.
    s.mock.setFaults({ errorRate: 0.5, seed: 7 });
    for (const type of readdirSync(EXAMPLES)) {
      const f = readdirSync(path.join(EXAMPLES, type)).find((n) => n.startsWith('valid-'));
      if (f) {
        const r = await api(s.url, 'POST', '/v1/messages', { type, payload: JSON.parse(readFileSync(path.join(EXAMPLES, type, f), 'utf8')) });
        if (r.status === 202) ids.push(r.json.id);
      }
    }
    s.mock.setFaults({});
    for (const id of ids) {
      await waitFor(async () => ['delivered', 'rejected'].includes((await api(s.url, 'GET', `/v1/messages/${id}`)).json.status), 30000);
    }
    expect(secrets.size).toBeGreaterThan(10);
    expect(s.logs.lines.length).toBeGreaterThan(ids.length);
    const leaks = s.logs.lines.flatMap((line) => [...secrets].filter((v) => line.includes(v)).map((v) => ({ value: v, line: line.slice(0, 200) })));
    expect(leaks).toEqual([]);
    // and every line about a message names it
    for (const line of s.logs.lines.filter((l) => l.includes('"component":"dispatcher"'))) expect(line).toMatch(/"messageId":"[0-9a-f-]{36}"/);
  }, 120000);
});
