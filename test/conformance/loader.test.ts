import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CENTRAL_CODES } from '../../mocks/central/codes';
import { ALLOWED_GROUNDS } from '../../mocks/central/rules';
import { CentralState } from '../../mocks/central/state';
import { getType, listTypes } from '../../src/catalogue/catalogue';
import { formatProblem, loadSuites, parseSuite, SuiteLoadError, type SuiteProblem } from '../../src/conformance/loader';
import type { ExpectStep, MockStateStep, NotifyStep, SendStep } from '../../src/conformance/types';

const SUITE_DIR = path.join(__dirname, '..', '..', 'conformance', 'suites');

/** The problems a suite text gives (fails the test if it loads). */
function problems(text: string, file = 'suite.yaml'): SuiteProblem[] {
  try {
    parseSuite(text, file);
  } catch (err) {
    if (err instanceof SuiteLoadError) return [...err.problems];
    throw err;
  }
  throw new Error('the suite loaded');
}

const HEAD = `suite: s1
title: A suite
phase: compliance
cases:
`;

describe('suite loader: clear errors with file:line', () => {
  test('a YAML syntax error names its line and column', () => {
    const p = problems(`${HEAD}  - id: A\n    title: [unclosed\n`);
    expect(p[0]).toMatchObject({ file: 'suite.yaml', line: expect.any(Number) });
    expect(p[0].line).toBeGreaterThanOrEqual(6);
    expect(formatProblem(p[0])).toMatch(/^suite\.yaml:\d+:\d+: YAML: /);
  });

  test('an unknown property is reported at its key with a suggestion', () => {
    const p = problems(`${HEAD}  - id: A
    title: t
    article: Art 1
    steps:
      - send: { type: vis.application.create, payload: {} }
      - expect: { stauts: delivered }
`);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ line: 10, where: 'cases[0] (A).steps[1].expect.stauts' });
    expect(p[0].message).toBe('unknown property "stauts" (did you mean "status"?)');
  });

  test('an unknown step kind, two kinds in one item, and a missing required field', () => {
    const p = problems(`${HEAD}  - id: A
    title: t
    article: Art 1
    steps:
      - sned: { type: x }
      - send: { type: vis.application.create, payload: {} }
        expect: { http: 202 }
  - id: B
    title: t
    steps:
      - wait: 1s
`);
    const msgs = p.map((x) => `${x.line}: ${x.message}`);
    expect(msgs).toEqual(expect.arrayContaining([
      expect.stringMatching(/^9: unknown step "sned" \(did you mean "send"\?\)/),
      expect.stringMatching(/^10: one step per list item \(found send and expect\)/),
      expect.stringMatching(/^12: missing required property "article"/),
    ]));
  });

  test('duplicate case ids, a missing phase and an undefined variable', () => {
    const p = problems(`suite: s1
title: t
cases:
  - id: A
    title: t
    article: Art 1
    phase: compliance
    steps:
      - send: { type: vis.application.create, payload: { applicationNumber: '\${nope}' } }
  - id: A
    title: t
    article: Art 1
    phase: compliance
    steps:
      - wait: 10ms
  - id: C
    title: t
    article: Art 1
    steps:
      - wait: 10ms
`);
    expect(p.map((x) => x.message)).toEqual(expect.arrayContaining([
      expect.stringContaining('${nope} is not defined before this step'),
      expect.stringContaining('missing "phase"'),
      expect.stringContaining('duplicate case id "A" (first at line 4)'),
    ]));
    expect(p.find((x) => x.message.includes('${nope}'))!.line).toBe(9);
  });

  test('XPath, JSONPath, pointer and matcher mistakes are found before anything runs', () => {
    const p = problems(`${HEAD}  - id: A
    title: t
    article: Art 1
    steps:
      - send: { type: vis.application.create, payload: {}, as: m }
      - expect:
          message: m
          xml:
            - { xpath: '/x:Request', equals: 1 }
            - { xpath: '/w:Request[', equals: 1 }
            - { xpath: 'frobnicate(/w:Request)', equals: 1 }
          json:
            - { path: '$.history[?(@.status ==]', equals: 1 }
            - { pointer: 'central/code', equals: OK }
            - { pointer: /central/code, matches: '(' }
          central: { code: { equal: OK } }
      - expect: { message: other, http: 202 }
`);
    const msgs = p.map((x) => x.message).join('\n');
    expect(msgs).toMatch(/namespace prefix "x" is not declared/);
    expect(msgs).toMatch(/expected "]" at the end|ends too early|a step is missing at the end/);
    expect(msgs).toMatch(/function "frobnicate\(\)" is not supported/);
    expect(msgs).toMatch(/JSON Pointer/);
    expect(msgs).toMatch(/matches: Invalid regular expression/);
    expect(msgs).toMatch(/"equal" is not a matcher \(did you mean "equals"\?\)/);
    expect(msgs).toMatch(/no earlier send, request or notify named "other"/);
    // every problem has a line
    for (const x of p) expect(x.line).toBeGreaterThan(0);
  });

  test('a mock step needs exactly one action; a payload file must exist', () => {
    const p = problems(`${HEAD}  - id: A
    title: t
    article: Art 1
    steps:
      - mock: { faults: { errorRate: 2 }, clear: true }
      - send: { type: vis.application.create, payload-file: no-such-file.json }
`);
    const msgs = p.map((x) => x.message).join('\n');
    expect(msgs).toMatch(/must be <= 1/);
    expect(msgs).toMatch(/cannot read no-such-file\.json: ENOENT/);
  });

  test('mock-state: one action per step, a Member State as sender, a known colour, at least two linked records, ESP entries with hits', () => {
    const p = problems(`${HEAD}  - id: A
    title: t
    article: Art 1
    steps:
      - mock-state: { link: { linkId: L1, records: [{ system: VIS, recordId: a }, { system: SIS, recordId: b }] }, clear-esp-hits: true }
      - mock-state: { apply: { type: vis.application.create, payload: {}, sender: swe } }
      - mock-state: { apply: { type: vis.application.create, sender: SE } }
      - mock-state: { link: { linkId: L1, colour: BLUE, records: [{ system: VIS, recordId: a }, { system: SIS, recordId: b }] } }
      - mock-state: { link: { linkId: L1, records: [{ system: VIS, recordId: a }] } }
      - mock-state: { esp-hits: { travelDocument: { number: X1 } } }
      - mock-state: { apply: { type: vis.application.create, payload: { applicationNumber: '\${nope}' }, sender: SE } }
      - mock-state: {}
`);
    const at = (line: number) => p.filter((x) => x.line === line).map((x) => x.message).join(' | ');
    expect(at(9)).toMatch(/give exactly one of apply, link, esp-hits, clear-esp-hits: true \(found link, clear-esp-hits\)/);
    expect(at(10)).toMatch(/a Member State code: two capital letters/);
    expect(at(11)).toMatch(/give one of payload, payload-file, example/);
    expect(at(12)).toMatch(/must be one of: YELLOW, GREEN, RED, WHITE/);
    expect(at(13)).toMatch(/must NOT have fewer than 2 items/);
    expect(at(14)).toMatch(/missing required property "hits"/);
    expect(at(15)).toMatch(/\$\{nope\} is not defined before this step/);
    expect(at(16)).toMatch(/is empty; give apply, link, esp-hits, clear-esp-hits, as/);
  });

  test('mock-state and notify steps normalise: example payloads with replace and set, templates kept for run time', () => {
    const [s] = [parseSuite(`${HEAD}  - id: A
    title: t
    article: Art 1
    variables: { link: 'MID-\${unique:l}' }
    steps:
      - mock-state:
          apply: { example: vis.application.create/valid-adult-business-representation, replace: { FI-HEL-2025-000123: 'X-\${unique:a}' }, sender: SE }
          as: seeded
      - mock-state: { link: { linkId: '\${link}', colour: YELLOW, records: [{ system: VIS, recordId: a }, { system: SIS, recordId: b }], verifierMemberState: FI } }
      - mock-state: { esp-hits: [{ travelDocument: { number: X1 }, hits: [{ sourceSystem: SIS, recordId: r1 }] }] }
      - mock-state: { clear-esp-hits: true }
      - notify: { example: vis.notification.deleted/valid-acquired-nationality, set: { /ground: ACQUIRED_MEMBER_STATE_NATIONALITY }, as: n }
      - notify: { example: vis.notification.deleted/valid-acquired-nationality, message-id: '\${n}', as: again }
      - expect: { message: seeded, response: [{ pointer: /result, equals: ACCEPTED }] }
`, 'suite.yaml')];
    const steps = s.cases[0].steps;
    const apply = steps[0] as MockStateStep;
    expect(apply).toMatchObject({ kind: 'mock-state', action: 'apply', as: 'seeded', apply: { type: 'vis.application.create', sender: 'SE', replace: { 'FI-HEL-2025-000123': 'X-${unique:a}' } } });
    expect(apply.apply?.example?.name).toBe('valid-adult-business-representation');
    expect(steps[1]).toMatchObject({ kind: 'mock-state', action: 'link', body: { linkId: '${link}', colour: 'YELLOW' } });
    expect(steps[2]).toMatchObject({ kind: 'mock-state', action: 'esp-hits', body: [{ travelDocument: { number: 'X1' } }] });
    expect(steps[3]).toMatchObject({ kind: 'mock-state', action: 'clear-esp-hits' });
    expect(steps[4] as NotifyStep).toMatchObject({ kind: 'notify', type: 'vis.notification.deleted', set: { '/ground': 'ACQUIRED_MEMBER_STATE_NATIONALITY' }, as: 'n' });
    expect((steps[5] as NotifyStep).messageId).toBe('${n}');
    expect(s.inputs.map((i) => path.basename(i.file))).toEqual(['valid-adult-business-representation.json', 'valid-acquired-nationality.json']);
  });

  test('suites in a folder load together; a case id used in two files is an error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-suites-'));
    const one = (suite: string) => `suite: ${suite}\ntitle: t\nphase: robustness\ncases:\n  - id: SAME\n    title: t\n    article: Art 1\n    steps:\n      - wait: 1ms\n`;
    writeFileSync(path.join(dir, 'a.yaml'), one('a'));
    writeFileSync(path.join(dir, 'b.yaml'), one('b'));
    let err: unknown;
    try { loadSuites([dir]); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SuiteLoadError);
    expect((err as SuiteLoadError).message).toMatch(/b\.yaml:5:\d+: case SAME: case id "SAME" is also used in .*a\.yaml:5/);
  });

  test('payload files and templates load; steps are normalised', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-suite-'));
    writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ applicationNumber: '${unique:app}' }));
    const file = path.join(dir, 's.yaml');
    writeFileSync(file, `${HEAD}  - id: A
    title: t
    article: Art 1
    steps:
      - send: { type: vis.application.create, payload-file: p.json, headers: { Idempotency-Key: 'k-\${unique:k}' }, as: m }
      - expect: { message: m, status: [delivered, rejected], within: 2m, central: { code: { one-of: [OK] } } }
`);
    const [s] = loadSuites([file]);
    const send = s.cases[0].steps[0] as SendStep;
    expect(send.payloadFile?.data).toEqual({ applicationNumber: '${unique:app}' });
    expect(send.headers).toEqual({ 'idempotency-key': 'k-${unique:k}' });
    const expectStep = s.cases[0].steps[1] as ExpectStep;
    expect(expectStep.withinMs).toBe(120000);
    expect(s.inputs.map((i) => path.basename(i.file))).toEqual(['p.json']);
    expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the bundled suite', () => {
  const suites = loadSuites([SUITE_DIR]);
  const cases = suites.flatMap((s) => s.cases);

  test('loads, with the three phases and unique ids', () => {
    expect(suites.map((s) => s.id).sort()).toEqual(['davis-compliance', 'davis-connectivity', 'davis-robustness']);
    expect(new Set(cases.map((c) => c.phase))).toEqual(new Set(['connectivity', 'compliance', 'robustness']));
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  test('covers every catalogue type with valid and invalid examples (generated, so new types are covered without editing YAML)', () => {
    for (const t of listTypes({ direction: 'all' })) {
      const mine = cases.filter((c) => c.generated?.type === t.id);
      expect({ type: t.id, valid: mine.some((c) => c.tags.includes('valid')), invalid: mine.some((c) => c.tags.includes('invalid')) })
        .toEqual({ type: t.id, valid: true, invalid: true });
    }
  });

  test('every central code the mock answers with is expected by a case, or is one the gateway cannot provoke (docs/conformance.md)', () => {
    // Through a correct gateway these cannot happen: it validates every payload against the
    // type's JSON Schema and the wire XSD before it signs and sends (grounds are closed lists in
    // the schemas, central handles every outbound type). What needs other Member States' files,
    // MID links or ESP hits is seeded with mock-state. VIS_ERR_SIGNATURE: the wrong-key test.
    const unreachable = new Set([
      'VIS_ERR_GROUND_NOT_ALLOWED', 'VIS_ERR_INVALID_PAYLOAD', 'VIS_ERR_SCHEMA', 'VIS_ERR_MALFORMED', 'VIS_ERR_UNSUPPORTED_OPERATION', 'VIS_ERR_SIGNATURE',
    ]);
    const expected = new Set<string>();
    const add = (spec: unknown) => {
      if (typeof spec === 'string') expected.add(spec);
      else if (spec && typeof spec === 'object') for (const k of ['equals', 'one-of']) [(spec as Record<string, unknown>)[k]].flat().forEach((v) => typeof v === 'string' && expected.add(v));
    };
    for (const c of cases) {
      for (const st of c.steps) {
        if (st.kind !== 'expect') continue;
        add(st.central?.code);
        for (const v of Object.values(st.received?.codes ?? {})) add(v);
      }
    }
    const missing = Object.keys(CENTRAL_CODES).filter((code) => !expected.has(code) && !unreachable.has(code));
    expect(missing).toEqual([]);
    // The list stays as short as it truly is: a code a case expects is not "unreachable".
    expect([...unreachable].filter((code) => expected.has(code))).toEqual([]);
  });

  test('the unreachable codes are truly unreachable: every closed list of grounds in the schemas is within what central allows', () => {
    for (const [type, allowed] of Object.entries(ALLOWED_GROUNDS)) {
      const schema = getType(type)!.schema as Record<string, any>;
      const deref = (v: any): any => (v && typeof v.$ref === 'string' && v.$ref.startsWith('#/$defs/') ? deref(schema.$defs[v.$ref.slice(8)]) : v);
      const found = new Set<string>();
      const enums = (v: any, seen: Set<unknown>): void => {
        v = deref(v);
        if (!v || typeof v !== 'object' || seen.has(v)) return;
        seen.add(v);
        if (Array.isArray(v.enum)) v.enum.forEach((g: unknown) => found.add(String(g)));
        for (const x of Object.values(v)) enums(x, seen);
      };
      const walk = (v: any, seen: Set<unknown>): void => {
        v = deref(v);
        if (!v || typeof v !== 'object' || seen.has(v)) return;
        seen.add(v);
        if (v.properties?.grounds) enums(v.properties.grounds, new Set());
        for (const x of Object.values(v)) walk(x, seen);
      };
      walk(schema, new Set());
      expect({ type, outside: [...found].filter((g) => !allowed.includes(g)), some: found.size > 0 }).toEqual({ type, outside: [], some: true });
    }
    // and central has a rule for every type the gateway sends (no VIS_ERR_UNSUPPORTED_OPERATION)
    const state = new CentralState();
    for (const t of listTypes()) expect([t.id, state.apply(t.id, 'FI', 'x', {}).code]).not.toEqual([t.id, 'VIS_ERR_UNSUPPORTED_OPERATION']);
  });

  test('a notify step and an expect-webhook for every notification type (central → UMA)', () => {
    for (const t of listTypes({ direction: 'inbound' })) {
      const hand = cases.filter((c) => !c.generated && c.steps.some((st) => st.kind === 'notify' && st.type === t.id) && c.steps.some((st) => st.kind === 'expect-webhook'));
      expect({ type: t.id, cases: hand.length > 0, requires: hand.every((c) => c.requires.includes('webhook')) }).toEqual({ type: t.id, cases: true, requires: true });
    }
  });

  test('every case names the legal article it checks', () => {
    for (const c of cases) expect(c.article.length).toBeGreaterThan(3);
  });
});
