/**
 * Loads suite files: YAML → JSON Schema check (ajv) → normalised {@link Suite}, with every
 * problem reported as `file:line:col: where: what` so a tester finds the line at once. All
 * problems of all files are collected before anything runs: a suite either loads whole or
 * the run does not start.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { DEFAULT_NAMESPACES, compileXPath, XPathError } from '../xml/xpath';
import { checkPointer, compileJsonPath, JsonQueryError } from './jsonpath';
import { checkMatcher, MATCHER_KEYS } from './matchers';
import { defaultExamplesDir, generateExampleCases, readExample, type GeneratorSpec } from './examples';
import {
  CASE_SCHEMA, GENERATOR_SCHEMA, STEP_KINDS, STEP_SCHEMAS, SUITE_SCHEMA,
  type RawCase, type RawGenerator, type RawPayloadSource, type RawStep, type RawStepBodies, type RawSuite,
} from './suite-schema';
import { templateProblems } from './template';
import {
  PHASES, type CaptureSpec, type Case, type Check, type InputFile, type PayloadSource, type Phase, type SourceRef, type Step, type Suite,
} from './types';

/** One thing wrong with a suite. */
export interface SuiteProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Where in the suite, e.g. `cases[3] (COMP-001).steps[1].expect.status`. */
  readonly where: string;
  readonly message: string;
}

/** A suite (or several) could not be loaded; `problems` says every reason with its line. */
export class SuiteLoadError extends Error {
  readonly code = 'CONFORMANCE_SUITE_INVALID';
  constructor(readonly problems: readonly SuiteProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'SuiteLoadError';
  }
}

/** `file:line:col: where: message`. */
export function formatProblem(p: SuiteProblem): string {
  return `${p.file}${p.line ? `:${p.line}:${p.col}` : ''}: ${p.where ? `${p.where}: ` : ''}${p.message}`;
}

/** Loader options. */
export interface LoadOptions {
  /** Folder of catalogue examples for `from-examples` and `example:`. @default <package>/schemas/examples */
  readonly examplesDir?: string;
}

/** Default wait for asynchronous expectations, ms. */
export const DEFAULT_WITHIN_MS = 30000;
/** Default poll interval, ms. */
export const DEFAULT_POLL_MS = 200;

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
// Each validator is the type guard of the shape its schema describes (suite-schema.ts).
const validators = {
  suite: ajv.compile<RawSuite>(SUITE_SCHEMA),
  case: ajv.compile<RawCase>(CASE_SCHEMA),
  generator: ajv.compile<RawGenerator>(GENERATOR_SCHEMA),
  steps: new Map<string, ValidateFunction>(STEP_KINDS.map((k) => [k, ajv.compile(STEP_SCHEMAS[k])])),
};

/** Parses a duration (`250ms`, `30s`, `2m`, or milliseconds as a number). */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/.exec(String(v));
  if (!m) throw new Error(`not a duration: ${String(v)}`);
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60000));
}

type PathSeg = string | number;

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The closest known name, when close enough to be a typo. */
function suggest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let score = Infinity;
  for (const k of known) {
    const s = levenshtein(word.toLowerCase(), k.toLowerCase());
    if (s < score) { score = s; best = k; }
  }
  return best !== undefined && score <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Reads one suite file's problems and normalised content. */
class FileLoader {
  readonly problems: SuiteProblem[] = [];
  readonly inputs: InputFile[] = [];
  private readonly lines = new LineCounter();
  private doc?: Document.Parsed;
  private readonly dir: string;

  constructor(private readonly file: string, private readonly text: string, private readonly opts: LoadOptions) {
    this.dir = path.dirname(path.resolve(file));
  }

  /** Source position of a path in the YAML; `key` points at the key rather than the value. */
  pos(p: readonly PathSeg[], key = false): SourceRef {
    let node: unknown = this.doc?.contents;
    let at: unknown = node;
    for (let i = 0; i < p.length; i++) {
      const seg = p[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) ? String(it.key.value) === String(seg) : String(it.key) === String(seg));
        if (!pair) break;
        at = key && i === p.length - 1 ? pair.key : pair.value ?? pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        at = node;
      } else {
        break;
      }
    }
    const range = (at as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return { file: this.file, line: 0, col: 0 };
    const lp = this.lines.linePos(range[0]);
    return { file: this.file, line: lp.line, col: lp.col };
  }

  /** Readable location: `cases[3] (COMP-001).steps[1].expect`. */
  where(p: readonly PathSeg[], data?: unknown): string {
    let out = '';
    let node: unknown = data;
    for (const seg of p) {
      if (typeof seg === 'number') {
        out += `[${seg}]`;
        node = Array.isArray(node) ? node[seg] : undefined;
        const id = node && typeof node === 'object' ? (node as Record<string, unknown>).id : undefined;
        if (typeof id === 'string' && (/^cases\[\d+\]$/.exec(out))) out += ` (${id})`;
      } else {
        out += out ? `.${seg}` : seg;
        node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
      }
    }
    return out;
  }

  problem(p: readonly PathSeg[], message: string, key = false): void {
    const at = this.pos(p, key);
    this.problems.push({ file: this.file, line: at.line, col: at.col, where: this.where(p, this.data), message });
  }

  private data: unknown;

  parse(): unknown {
    this.doc = parseDocument(this.text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const e of this.doc.errors) {
      const lp = e.linePos?.[0] ?? this.lines.linePos(e.pos[0]);
      this.problems.push({ file: this.file, line: lp.line, col: lp.col, where: '', message: `YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    if (this.doc.errors.length) return undefined;
    this.data = this.doc.toJS({ maxAliasCount: 100 });
    return this.data;
  }

  /** Reports ajv errors under `base`. */
  schemaErrors(errors: readonly ErrorObject[] | null | undefined, base: readonly PathSeg[]): void {
    const seen = new Set<string>();
    for (const e of errors ?? []) {
      // `anyOf` repeats its branches' errors; the branch errors say it better.
      if (e.keyword === 'anyOf' || e.keyword === 'if') continue;
      const p = [...base, ...e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s))];
      let msg: string;
      let key = false;
      const params = e.params as Record<string, unknown>;
      switch (e.keyword) {
        case 'additionalProperties': {
          const extra = String(params.additionalProperty);
          const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties) ?? {});
          const hint = suggest(extra, known);
          msg = `unknown property "${extra}"${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (allowed: ${known.join(', ')})` : ''}`;
          p.push(extra);
          key = true;
          break;
        }
        case 'required': msg = `missing required property "${String(params.missingProperty)}"`; break;
        case 'enum': msg = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`; break;
        case 'const': msg = `must be ${JSON.stringify(params.allowedValue)}`; break;
        case 'type': msg = `must be ${String(params.type).replace(',', ' or ')}`; break;
        case 'pattern':
          msg = String(params.pattern).includes('(ms|s|m)') ? 'must be a duration such as 500ms, 30s or 2m'
            : String(params.pattern).startsWith('^[A-Za-z0-9][A-Za-z0-9._:-]') ? 'must be letters, digits and . _ : - (starting with a letter or digit)'
              : String(params.pattern).startsWith('^[A-Za-z_][A-Za-z0-9_-]') ? 'must be a name: letters, digits, _ and - (starting with a letter or _)'
                : String(params.pattern) === '^\\s*\\$' ? 'a JSONPath starts with "$"'
                  : String(params.pattern) === '^(/.*)?$' ? 'must be a JSON Pointer (empty or starting with "/")'
                    : `must match ${String(params.pattern)}`;
          break;
        case 'propertyNames': continue; // the nested pattern/enum error names the key
        case 'minProperties': {
          const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties) ?? {});
          msg = `is empty${known.length ? `; give ${known.join(', ')}` : ''}`;
          break;
        }
        default: msg = e.message ?? e.keyword;
      }
      if (e.instancePath === '' && e.keyword === 'pattern' && e.schemaPath.includes('propertyNames')) key = true;
      const sig = `${p.join('/')}|${msg}`;
      if (seen.has(sig)) continue;
      seen.add(sig);
      this.problem(p, msg, key);
    }
  }

  /** Reads a JSON or YAML data file relative to the suite; records its hash. */
  readDataFile(rel: string, at: readonly PathSeg[]): unknown {
    const abs = path.resolve(this.dir, rel);
    let buf: Buffer;
    try {
      buf = readFileSync(abs);
    } catch (err) {
      this.problem(at, `cannot read ${rel}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
    this.inputs.push({ file: displayPath(abs), sha256: createHash('sha256').update(buf).digest('hex') });
    try {
      if (/\.ya?ml$/i.test(abs)) {
        const d = parseDocument(buf.toString('utf8'));
        if (d.errors.length) throw new Error(d.errors[0].message.split('\n')[0]);
        return d.toJS();
      }
      return JSON.parse(buf.toString('utf8'));
    } catch (err) {
      this.problem(at, `${rel} is not valid ${/\.ya?ml$/i.test(abs) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
      return undefined;
    }
  }

  readExampleRef(ref: string, at: readonly PathSeg[]): { type: string; name: string; data: unknown } | undefined {
    try {
      const ex = readExample(ref, this.opts.examplesDir ?? defaultExamplesDir());
      this.inputs.push({ file: displayPath(ex.file), sha256: ex.sha256 });
      return ex;
    } catch (err) {
      this.problem(at, `example "${ref}" cannot be read (schemas/examples/<type>/<name>.json): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
  }
}

function displayPath(abs: string): string {
  const cwd = process.cwd();
  return abs.startsWith(cwd + path.sep) ? path.relative(cwd, abs) : abs;
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Names a template refers to (`${name}` only; functions and built-ins excluded). */
function templateVariables(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.replace(/\$\$\{/g, '').matchAll(/\$\{([^}:]*)\}/g)) {
      const n = m[1].trim();
      if (!['run', 'seed', 'case', 'now'].includes(n)) out.add(n);
    }
  } else if (Array.isArray(value)) value.forEach((v) => templateVariables(v, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { templateVariables(k, out); templateVariables(v, out); }
  return out;
}

/** Checks and normalises a list of checks (`json`, `response`, `xml`). */
function normaliseChecks(fl: FileLoader, raw: unknown, at: readonly PathSeg[], allowed: 'json' | 'xml', ns: Readonly<Record<string, string>>): Check[] {
  if (!Array.isArray(raw)) return [];
  const out: Check[] = [];
  raw.forEach((c: Record<string, unknown>, i) => {
    const p = [...at, i];
    const locators = ['pointer', 'path', 'xpath'].filter((k) => c[k] !== undefined);
    if (locators.length !== 1) {
      fl.problem(p, `a check names exactly one of ${allowed === 'xml' ? 'xpath' : 'pointer or path'}${locators.length ? ` (found ${locators.join(' and ')})` : ''}`);
      return;
    }
    const loc = locators[0];
    if (allowed === 'xml' && loc !== 'xpath') { fl.problem([...p, loc], 'checks on the wire XML use xpath'); return; }
    if (allowed === 'json' && loc === 'xpath') { fl.problem([...p, loc], 'xpath applies to the wire XML (expect.xml), not to JSON'); return; }
    const checkNs = { ...ns, ...((c.namespaces as Record<string, string> | undefined) ?? {}) };
    const expr = String(c[loc]);
    // Templates are resolved at run time; a neutral stand-in keeps the syntax check meaningful.
    const probe = expr.replace(/\$\{[^}]*\}/g, 'x');
    try {
      if (loc === 'pointer') checkPointer(probe);
      else if (loc === 'path') compileJsonPath(probe);
      else compileXPath(probe, checkNs);
    } catch (err) {
      if (err instanceof XPathError || err instanceof JsonQueryError) fl.problem([...p, loc], `${err.message} (at character ${err.offset + 1} of ${JSON.stringify(expr)})`);
      else throw err;
      return;
    }
    const matcher: Record<string, unknown> = {};
    for (const k of MATCHER_KEYS) if (c[k] !== undefined) matcher[k] = c[k];
    for (const m of checkMatcher(matcher)) fl.problem(p, m);
    for (const t of templateProblems(c)) fl.problem(p, t);
    out.push({ [loc]: expr, namespaces: checkNs, spec: Object.keys(matcher).length ? matcher : { exists: true } });
  });
  return out;
}

/** Matcher-valued fields: checks a value that may be a matcher object. */
function checkSpec(fl: FileLoader, spec: unknown, at: readonly PathSeg[]): void {
  if (spec && typeof spec === 'object' && !Array.isArray(spec) && !Object.keys(spec).some((k) => (MATCHER_KEYS as readonly string[]).includes(k))) {
    // An object without matcher keys is a literal; a near miss of a matcher key is a typo.
    for (const k of Object.keys(spec)) {
      const hint = k.length >= 4 ? suggest(k, MATCHER_KEYS) : undefined;
      if (hint) fl.problem([...at, k], `"${k}" is not a matcher (did you mean "${hint}"?); to compare with an object, write {equals: {…}}`, true);
    }
  }
  for (const m of checkMatcher(spec)) fl.problem(at, m);
  for (const t of templateProblems(spec)) fl.problem(at, t);
}

interface StepContext {
  /** Exchange names defined so far (send/request/notify `as`, plus `_last` for unnamed). */
  readonly exchanges: Set<string>;
  readonly vars: Set<string>;
  hasExchange: boolean;
  readonly ns: Readonly<Record<string, string>>;
}

/** Reads and checks a payload source (`payload`, `payload-file`, `example`, `set`, `remove`, `replace`). */
function payloadSource(fl: FileLoader, b: RawPayloadSource, p: readonly PathSeg[], ctx: StepContext): { example?: { type: string; name: string; data: unknown }; normalised: PayloadSource } {
  let payloadFile: { path: string; data: unknown } | undefined;
  if (b['payload-file'] !== undefined) {
    const data = fl.readDataFile(b['payload-file'], [...p, 'payload-file']);
    if (data !== undefined) {
      payloadFile = { path: b['payload-file'], data };
      for (const t of templateProblems(data)) fl.problem([...p, 'payload-file'], `${b['payload-file']}: ${t}`);
      for (const v of templateVariables(data)) if (!ctx.vars.has(v) && !ctx.exchanges.has(v)) fl.problem([...p, 'payload-file'], `${b['payload-file']}: \${${v}} is not defined before this step`);
    }
  }
  let example: { type: string; name: string; data: unknown } | undefined;
  if (b.example !== undefined) example = fl.readExampleRef(b.example, [...p, 'example']);
  if (b.set) for (const k of Object.keys(b.set)) { try { checkPointer(k); } catch (err) { fl.problem([...p, 'set', k], (err as Error).message, true); } }
  if (b.remove) b.remove.forEach((k, i) => { try { checkPointer(k); } catch (err) { fl.problem([...p, 'remove', i], (err as Error).message); } });
  return {
    ...(example ? { example } : {}),
    normalised: {
      ...(b.payload !== undefined ? { payload: b.payload } : {}),
      ...(payloadFile ? { payloadFile } : {}),
      ...(example ? { example } : {}),
      ...(b.set ? { set: b.set } : {}),
      ...(b.remove ? { remove: b.remove } : {}),
      ...(b.replace ? { replace: b.replace } : {}),
    },
  };
}

function normaliseStep(fl: FileLoader, raw: unknown, at: readonly PathSeg[], index: number, ctx: StepContext): Step | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) { fl.problem(at, 'a step is a mapping with one key: ' + STEP_KINDS.join(', ')); return undefined; }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    const kinds = keys.filter((k) => STEP_KINDS.includes(k));
    fl.problem(at, kinds.length > 1 ? `one step per list item (found ${kinds.join(' and ')}); start a new "- ${kinds[1]}:" item` : `a step has exactly one key, the step kind (${STEP_KINDS.join(', ')}); found ${keys.join(', ') || 'none'}`);
    return undefined;
  }
  const kind = keys[0];
  if (!STEP_KINDS.includes(kind)) {
    const hint = suggest(kind, STEP_KINDS);
    fl.problem([...at, kind], `unknown step "${kind}"${hint ? ` (did you mean "${hint}"?)` : ` (steps: ${STEP_KINDS.join(', ')})`}`, true);
    return undefined;
  }
  const body = (raw as Record<string, unknown>)[kind];
  const p = [...at, kind];
  const validate = validators.steps.get(kind);
  if (!validate) return undefined;
  if (!validate(body)) { fl.schemaErrors(validate.errors, p); return undefined; }
  // The kind's schema vouches for the body's shape.
  const step = { kind, body } as RawStep;
  const source = fl.pos(p);
  const before = fl.problems.length;
  // Variables a step uses must exist by then (suite/case variables, captures, exchange names).
  const usedVars = kind === 'capture' ? new Set<string>() : templateVariables(body);
  for (const v of usedVars) {
    if (!ctx.vars.has(v) && !ctx.exchanges.has(v)) fl.problem(p, `\${${v}} is not defined before this step (variables, captures and exchange names ("as") defined earlier can be used)`);
  }
  for (const t of kind === 'capture' ? [] : templateProblems(body)) fl.problem(p, t);
  const refExchange = (name: string | undefined, where: PathSeg[]): void => {
    if (name === undefined) {
      if (!ctx.hasExchange) fl.problem(where, 'no earlier send or request to refer to; name one with "message:"');
    } else if (!ctx.exchanges.has(name)) {
      fl.problem(where, `no earlier send, request or notify named "${name}"`);
    }
  };

  switch (step.kind) {
    case 'send':
    case 'notify': {
      const b: RawStepBodies['send'] & RawStepBodies['notify'] = step.body;
      const sources = ['payload', 'payload-file', 'example', 'body', ...(kind === 'send' ? ['raw'] : [])].filter((k) => present(b, k));
      if (sources.length > 1) fl.problem(p, `give one of payload, payload-file, example, body${kind === 'send' ? ', raw' : ''} (found ${sources.join(', ')})`);
      if (kind === 'notify' && !sources.length) fl.problem(p, 'give payload, payload-file, example or body');
      if (kind === 'send' && !sources.length && b.type === undefined) fl.problem(p, 'give a type and a payload (payload, payload-file or example), or body or raw');
      const whole = b.body !== undefined || b.raw !== undefined;
      if (whole && (b.type !== undefined || b.set || b.remove || b.replace)) fl.problem(p, 'body and raw are sent as they are: type, set, remove and replace do not apply');
      if (whole && b['message-id'] !== undefined) fl.problem([...p, 'message-id'], 'with body, give the message id as body.messageId');
      if (b['content-type'] !== undefined && b.raw === undefined) fl.problem([...p, 'content-type'], 'content-type applies to raw bodies');
      const src = payloadSource(fl, b, p, ctx);
      const type = b.type ?? src.example?.type;
      if (!whole && sources.length && type === undefined) fl.problem(p, 'missing "type" (the catalogue message type)');
      if (b.as !== undefined) ctx.exchanges.add(b.as);
      if (kind === 'send') ctx.hasExchange = true;
      if (fl.problems.length > before) return undefined;
      const common = {
        index, source,
        ...(type !== undefined ? { type } : {}),
        ...src.normalised,
        ...(b.body !== undefined ? { body: b.body } : {}),
        ...(b.as !== undefined ? { as: b.as } : {}),
      };
      if (kind === 'notify') return { kind: 'notify', ...common, ...(b['message-id'] !== undefined ? { messageId: b['message-id'] } : {}) };
      return {
        kind: 'send', ...common,
        ...(b.raw !== undefined ? { raw: b.raw } : {}),
        ...(b['content-type'] !== undefined ? { contentType: b['content-type'] } : {}),
        ...(b.headers ? { headers: lowerKeys<string>(b.headers) } : {}),
      };
    }
    case 'mock-state': {
      const b = step.body;
      const actions = ['apply', 'link', 'esp-hits', 'clear-esp-hits'].filter((k) => present(b, k));
      if (actions.length !== 1) {
        fl.problem(p, `give exactly one of apply, link, esp-hits, clear-esp-hits: true${actions.length ? ` (found ${actions.join(', ')})` : ''}`);
        return undefined;
      }
      const action = actions[0] as 'apply' | 'link' | 'esp-hits' | 'clear-esp-hits';
      if (b.as !== undefined) ctx.exchanges.add(b.as);
      if (action === 'apply') {
        const a = b.apply;
        if (!a) return undefined;
        const ap = [...p, 'apply'];
        const sources = ['payload', 'payload-file', 'example'].filter((k) => present(a, k));
        if (sources.length !== 1) fl.problem(ap, `give one of payload, payload-file, example${sources.length ? ` (found ${sources.join(', ')})` : ''}`);
        if (!a.sender.includes('${') && !/^[A-Z]{2}$/.test(a.sender)) fl.problem([...ap, 'sender'], 'a Member State code: two capital letters, e.g. SE');
        const src = payloadSource(fl, a, ap, ctx);
        const type = a.type ?? src.example?.type;
        if (type === undefined) fl.problem(ap, 'missing "type" (the catalogue message type)');
        if (type === undefined || fl.problems.length > before) return undefined;
        return { kind: 'mock-state', index, source, action, apply: { type, sender: a.sender, ...src.normalised }, ...(b.as !== undefined ? { as: b.as } : {}) };
      }
      if (action === 'link') {
        const colour = b.link?.colour;
        const COLOURS = ['YELLOW', 'GREEN', 'RED', 'WHITE'];
        if (colour !== undefined && !colour.includes('${') && !COLOURS.includes(colour)) fl.problem([...p, 'link', 'colour'], `must be one of: ${COLOURS.join(', ')}`);
      }
      if (fl.problems.length > before) return undefined;
      return {
        kind: 'mock-state', index, source, action,
        ...(action === 'link' || action === 'esp-hits' ? { body: b[action] } : {}),
        ...(b.as !== undefined ? { as: b.as } : {}),
      };
    }
    case 'request': {
      const b = step.body;
      if (b.as !== undefined) ctx.exchanges.add(b.as);
      ctx.hasExchange = true;
      if (fl.problems.length > before) return undefined;
      return {
        kind: 'request', index, source, method: b.method ?? 'GET', path: b.path, base: b.base ?? 'gateway',
        ...(b.body !== undefined ? { body: b.body } : {}), ...(b.headers ? { headers: lowerKeys<string>(b.headers) } : {}), ...(b.as !== undefined ? { as: b.as } : {}),
      };
    }
    case 'expect': {
      const b = step.body;
      refExchange(b.message, b.message === undefined ? p : [...p, 'message']);
      const ns = { ...ctx.ns, ...(b.namespaces ?? {}) };
      for (const k of ['http', 'attempts'] as const) if (b[k] !== undefined) checkSpec(fl, b[k], [...p, k]);
      for (const [k, v] of Object.entries(b.headers ?? {})) checkSpec(fl, v, [...p, 'headers', k]);
      for (const [k, v] of Object.entries(b.central ?? {})) checkSpec(fl, v, [...p, 'central', k]);
      if (b.problem?.code !== undefined) checkSpec(fl, b.problem.code, [...p, 'problem', 'code']);
      const statuses = b.status === undefined ? [] : typeof b.status === 'string' ? [b.status] : b.status;
      const KNOWN = ['accepted', 'queued', 'sending', 'retrying', 'delivered', 'rejected', 'failed', 'refused'];
      for (const s of statuses) if (!KNOWN.includes(s)) fl.problem([...p, 'status'], `unknown message status "${s}"${suggest(s, KNOWN) ? ` (did you mean "${suggest(s, KNOWN)}"?)` : ` (${KNOWN.join(', ')})`}`);
      const r = b.received as Record<string, unknown> | undefined;
      if (r) {
        for (const k of ['includes', 'excludes', 'order'] as const) ((r[k] as string[] | undefined) ?? []).forEach((n, i) => refExchange(n, [...p, 'received', k, i]));
        for (const k of ['repeats', 'codes'] as const) for (const [n, v] of Object.entries((r[k] as Record<string, unknown> | undefined) ?? {})) { refExchange(n, [...p, 'received', k, n]); checkSpec(fl, v, [...p, 'received', k, n]); }
      }
      let withinMs: number | undefined;
      if (b.within !== undefined) withinMs = parseDuration(b.within);
      const json = normaliseChecks(fl, b.json, [...p, 'json'], 'json', ns);
      const response = normaliseChecks(fl, b.response, [...p, 'response'], 'json', ns);
      const xml = normaliseChecks(fl, b.xml, [...p, 'xml'], 'xml', ns);
      if (fl.problems.length > before) return undefined;
      return {
        kind: 'expect', index, source,
        ...(b.message !== undefined ? { message: b.message } : {}),
        ...(b.http !== undefined ? { http: b.http } : {}),
        ...(b.headers ? { headers: lowerKeys(b.headers) } : {}),
        ...(b.response ? { response } : {}),
        ...(b.problem ? { problem: { ...(b.problem.code !== undefined ? { code: b.problem.code } : {}), ...(b.problem.pointers ? { pointers: b.problem.pointers } : {}), ...(b.problem['includes-pointers'] ? { includesPointers: b.problem['includes-pointers'] } : {}) } } : {}),
        ...(b.status !== undefined ? { status: b.status } : {}),
        ...(b.central ? { central: b.central } : {}),
        ...(b.attempts !== undefined ? { attempts: b.attempts } : {}),
        ...(b.json ? { json } : {}),
        ...(b.xml ? { xml } : {}),
        ...(r ? { received: r } : {}),
        ...(withinMs !== undefined ? { withinMs } : {}),
      };
    }
    case 'capture': {
      const b = step.body;
      const vars: Record<string, CaptureSpec> = {};
      for (const [name, spec] of Object.entries(b)) {
        const sp = [...p, name];
        const used = templateVariables(spec);
        for (const v of used) if (!ctx.vars.has(v) && !ctx.exchanges.has(v)) fl.problem(sp, `\${${v}} is not defined before this step`);
        refExchange(spec.message, [...sp, 'message']);
        const locators = (['pointer', 'path', 'xpath'] as const).filter((k) => spec[k] !== undefined);
        if (locators.length !== 1) { fl.problem(sp, 'name exactly one of pointer, path or xpath'); continue; }
        const loc = locators[0];
        const from = spec.from ?? (loc === 'xpath' ? 'wire' : 'status');
        if ((from === 'wire') !== (loc === 'xpath')) { fl.problem(sp, 'xpath reads the wire XML (from: wire); pointer and path read JSON (from: status or response)'); continue; }
        const ns = { ...ctx.ns, ...(spec.namespaces ?? {}) };
        const check = normaliseChecks(fl, [{ [loc]: spec[loc], ...(spec.namespaces ? { namespaces: spec.namespaces } : {}) }], sp, loc === 'xpath' ? 'xml' : 'json', ns).at(0);
        if (!check) continue;
        vars[name] = { ...(spec.message !== undefined ? { message: spec.message } : {}), from, [loc]: spec[loc], namespaces: ns };
        ctx.vars.add(name);
      }
      if (fl.problems.length > before) return undefined;
      return { kind: 'capture', index, source, vars };
    }
    case 'mock': {
      const b = step.body;
      const actions = ['faults', 'clear', 'reset'].filter((k) => present(b, k));
      if (actions.length !== 1) fl.problem(p, `give exactly one of faults, clear: true, reset: true${actions.length ? ` (found ${actions.join(', ')})` : ''}`);
      if (b.seed !== undefined && b.faults === undefined) fl.problem([...p, 'seed'], 'seed goes with faults');
      if (b.faults?.seed !== undefined) fl.problem([...p, 'faults', 'seed'], 'give the seed beside faults (mock: {faults: {…}, seed: N}), not inside');
      if (fl.problems.length > before) return undefined;
      return { kind: 'mock', index, source, action: actions[0] as 'faults', ...(b.faults ? { faults: b.faults } : {}), ...(b.seed !== undefined ? { seed: b.seed } : {}) };
    }
    case 'wait':
      return { kind: 'wait', index, source, ms: parseDuration(body) };
    case 'expect-webhook': {
      const b = step.body;
      if (b.message !== undefined) refExchange(b.message, [...p, 'message']);
      if (b.event !== undefined) checkSpec(fl, b.event, [...p, 'event']);
      for (const [k, v] of Object.entries(b.headers ?? {})) checkSpec(fl, v, [...p, 'headers', k]);
      const json = normaliseChecks(fl, b.json, [...p, 'json'], 'json', ctx.ns);
      if (b.as !== undefined) ctx.exchanges.add(b.as);
      if (fl.problems.length > before) return undefined;
      return {
        kind: 'expect-webhook', index, source,
        ...(b.event !== undefined ? { event: b.event } : {}), ...(b.message !== undefined ? { message: b.message } : {}),
        ...(b.headers ? { headers: lowerKeys(b.headers) } : {}), ...(b.json ? { json } : {}),
        ...(b.signature ? { signature: b.signature } : {}), ...(b.within !== undefined ? { withinMs: parseDuration(b.within) } : {}),
        ...(b.as !== undefined ? { as: b.as } : {}),
      };
    }
  }
  return undefined;
}

/** Whether a mapping gives a value for `key`. */
function present(o: object, key: string): boolean {
  return (o as Record<string, unknown>)[key] !== undefined;
}

function lowerKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Parses and checks one suite's text. `file` names it in messages and is the base for
 * relative payload files.
 *
 * @throws SuiteLoadError with every problem found
 */
export function parseSuite(text: string, file: string, opts: LoadOptions = {}): Suite {
  const fl = new FileLoader(file, text, opts);
  const data = fl.parse();
  if (fl.problems.length) throw new SuiteLoadError(fl.problems);
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new SuiteLoadError([{ file, line: 1, col: 1, where: '', message: 'a suite file is a YAML mapping with suite, title and cases' }]);
  if (!validators.suite(data)) {
    fl.schemaErrors(validators.suite.errors, []);
    throw new SuiteLoadError(fl.problems);
  }
  const d = data;
  const ns: Record<string, string> = { ...DEFAULT_NAMESPACES, ...(d.namespaces ?? {}) };
  const suiteVars: Record<string, unknown> = d.variables ?? {};
  for (const t of templateProblems(suiteVars)) fl.problem(['variables'], t);
  const defaults = {
    withinMs: d.defaults?.within !== undefined ? parseDuration(d.defaults.within) : DEFAULT_WITHIN_MS,
    pollMs: d.defaults?.poll !== undefined ? parseDuration(d.defaults.poll) : DEFAULT_POLL_MS,
  };
  const cases: Case[] = [];
  (d.cases as unknown[]).forEach((item, i) => {
    const at: PathSeg[] = ['cases', i];
    const it = item as Record<string, unknown>;
    if ('from-examples' in it) {
      if (!validators.generator(it)) { fl.schemaErrors(validators.generator.errors, at); return; }
      const phase: Phase | undefined = it.phase ?? d.phase;
      if (!phase) { fl.problem(at, 'missing "phase" (on the item or the suite)'); return; }
      const genNs = ns;
      const extra = normaliseChecks(fl, it.xml, [...at, 'xml'], 'xml', genNs);
      const g: GeneratorSpec = {
        types: it['from-examples'] === 'all' ? 'all' : Array.isArray(it['from-examples']) ? it['from-examples'] : [it['from-examples']],
        phase, idPrefix: it['id-prefix'] ?? 'EX', tags: it.tags ?? ['examples'], include: it.include ?? 'all',
        prerequisites: it.prerequisites ?? {}, uniqueKeys: it['unique-keys'] ?? [], outcomes: it.outcomes ?? {}, skip: it.skip ?? {}, xml: extra, namespaces: genNs,
      };
      const gen = generateExampleCases(g, d.suite, fl.pos(at), opts.examplesDir ?? defaultExamplesDir());
      for (const pr of gen.problems) fl.problem([...at, 'from-examples'], pr);
      fl.inputs.push(...gen.inputs);
      cases.push(...gen.cases);
      return;
    }
    if (!validators.case(it)) { fl.schemaErrors(validators.case.errors, at); return; }
    const phase: Phase | undefined = it.phase ?? d.phase;
    if (!phase) { fl.problem(at, `missing "phase" (on the case or the suite: ${PHASES.join(', ')})`); return; }
    const caseVars: Record<string, unknown> = it.variables ?? {};
    for (const t of templateProblems(caseVars)) fl.problem([...at, 'variables'], t);
    const ctx: StepContext = { exchanges: new Set(), vars: new Set([...Object.keys(suiteVars), ...Object.keys(caseVars)]), hasExchange: false, ns };
    const steps: Step[] = [];
    (it.steps as unknown[]).forEach((s, k) => {
      const step = normaliseStep(fl, s, [...at, 'steps', k], k, ctx);
      if (step) steps.push(step);
    });
    cases.push({
      id: it.id, title: it.title, article: it.article, phase, tags: it.tags ?? [],
      ...(it.skip ? { skip: it.skip } : {}), requires: it.requires ?? [], variables: caseVars,
      steps, suiteId: d.suite, source: fl.pos(at),
    });
  });
  const ids = new Map<string, number>();
  cases.forEach((c, i) => {
    const first = ids.get(c.id);
    if (first !== undefined) fl.problems.push({ file, line: c.source.line, col: c.source.col, where: `case ${c.id}`, message: `duplicate case id "${c.id}" (first at line ${cases[first].source.line})` });
    else ids.set(c.id, i);
  });
  if (fl.problems.length) throw new SuiteLoadError(fl.problems);
  const exitCriteria: Partial<Record<Phase, { maxFailures: number }>> = {};
  for (const [ph, v] of Object.entries(d['exit-criteria'] ?? {})) exitCriteria[ph as Phase] = { maxFailures: (v as { 'max-failures'?: number })['max-failures'] ?? 0 };
  return {
    id: d.suite, title: d.title, file: displayPath(path.resolve(file)), sha256: sha256(text),
    ...(d.version !== undefined ? { version: String(d.version) } : {}),
    ...(d.interface ? { interface: d.interface } : {}),
    ...(d.description ? { description: d.description } : {}),
    namespaces: ns, variables: suiteVars, defaults, exitCriteria,
    ...(d.webhook?.secret ? { webhookSecret: d.webhook.secret } : {}),
    cases, inputs: dedupeInputs(fl.inputs),
  };
}

function dedupeInputs(inputs: InputFile[]): InputFile[] {
  const m = new Map<string, InputFile>();
  for (const i of inputs) m.set(i.file, i);
  return [...m.values()];
}

/** Files to load: each argument, or the `*.yaml` / `*.yml` files of a folder (sorted). */
export function expandSuitePaths(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let st;
    try { st = statSync(a); } catch { out.push(a); continue; }
    if (st.isDirectory()) out.push(...readdirSync(a).filter((f) => /\.ya?ml$/i.test(f)).sort().map((f) => path.join(a, f)));
    else out.push(a);
  }
  return out;
}

/**
 * Loads every suite (folders expand to their YAML files). Case ids must be unique across
 * all of them: reports and statements name cases by id.
 *
 * @throws SuiteLoadError with the problems of every file
 */
export function loadSuites(args: readonly string[], opts: LoadOptions = {}): Suite[] {
  const problems: SuiteProblem[] = [];
  const suites: Suite[] = [];
  for (const file of expandSuitePaths(args)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file, line: 0, col: 0, where: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    try {
      suites.push(parseSuite(text, file, opts));
    } catch (err) {
      if (err instanceof SuiteLoadError) problems.push(...err.problems);
      else throw err;
    }
  }
  const seen = new Map<string, { file: string; line: number }>();
  const suiteIds = new Map<string, string>();
  for (const s of suites) {
    if (suiteIds.has(s.id)) problems.push({ file: s.file, line: 1, col: 1, where: '', message: `suite id "${s.id}" is also used by ${suiteIds.get(s.id)}` });
    suiteIds.set(s.id, s.file);
    for (const c of s.cases) {
      const first = seen.get(c.id);
      if (first && first.file !== s.file) problems.push({ file: s.file, line: c.source.line, col: c.source.col, where: `case ${c.id}`, message: `case id "${c.id}" is also used in ${first.file}:${first.line}` });
      else if (!first) seen.set(c.id, { file: s.file, line: c.source.line });
    }
  }
  if (!suites.length && !problems.length) problems.push({ file: args.join(' ') || '(none)', line: 0, col: 0, where: '', message: 'no suite files found' });
  if (problems.length) throw new SuiteLoadError(problems);
  return suites;
}
