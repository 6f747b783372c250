/**
 * Property-based fuzz of the HTTP API (fast-check through `fastify.inject()` on the real stack
 * pieces, see fuzz-stack.ts). Properties, for every generated request:
 * - no answer is 500 or above, except 503 with `Retry-After` (declared backpressure);
 * - every 4xx (and that 503) is `application/problem+json` whose `code` is in the error catalogue
 *   and whose `status` is the HTTP status;
 * - nothing is logged at level error (an internal error is a finding even when answered 4xx);
 * - the process stays up and `/health/live` answers 200 throughout.
 *
 * `FUZZ_RUNS` sets the number of requests (2,000 by default, inside `npm test`; `npm run
 * test:fuzz` runs 100,000), `FUZZ_SEED` (and `FUZZ_PATH`) replays a run: a failure prints its
 * seed and path. `FUZZ_PROFILE=1` prints the time spent per kind of request, `FUZZ_DEBUG=1` the
 * event-loop and memory figures behind each backpressure 503. About 3.3 ms of CPU a request
 * here: 100,000 take about six minutes on an idle machine, far longer on a loaded one, where
 * starved timers also read as event-loop delay and turn many answers into declared 503s.
 */
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { ERRORS } from '../../src/errors/errors';
import { startFuzzStack, type FuzzStack } from './fuzz-stack';
import { requests, type FuzzRequest } from './requests';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const PATH = process.env.FUZZ_PATH;
const CODES = new Set(Object.keys(ERRORS));
/** FUZZ_PROFILE=1: time spent per kind of request, printed at the end. */
const PROFILE = process.env.FUZZ_PROFILE ? new Map<string, [number, number]>() : undefined;

/** What is wrong with one answer, or undefined. */
export function violation(req: FuzzRequest, res: LightMyRequestResponse): string | undefined {
  const s = res.statusCode;
  const backpressure = s === 503 && res.headers['retry-after'] !== undefined;
  if (s >= 500 && !backpressure) return `status ${s}: ${res.body.slice(0, 300)}`;
  if (s < 400) return undefined;
  const ct = String(res.headers['content-type'] ?? '');
  if (!ct.startsWith('application/problem+json')) return `status ${s} with content-type ${ct}`;
  if (req.inject.method === 'HEAD') return undefined;
  let doc: { status?: unknown; code?: unknown };
  try {
    doc = JSON.parse(res.body) as typeof doc;
  } catch {
    return `status ${s}: the problem document is not JSON`;
  }
  if (doc.status !== s) return `problem status ${String(doc.status)} on an HTTP ${s}`;
  if (typeof doc.code !== 'string' || !CODES.has(doc.code)) return `problem code ${String(doc.code)} is not in the catalogue`;
  if (ERRORS[doc.code as keyof typeof ERRORS].status !== s) return `${doc.code} answered with ${s}`;
  return undefined;
}

describe('API fuzz: generated from the OpenAPI document and the catalogue examples', () => {
  let stack: FuzzStack;
  const known: string[] = [];
  beforeAll(async () => { stack = await startFuzzStack(); }, 60000);
  afterAll(async () => { await (stack as FuzzStack | undefined)?.stop(); });

  test(`${RUNS} requests: no 5xx but declared backpressure, every 4xx a catalogued problem, /health/live up throughout`, async () => {
    let n = 0;
    const statuses = new Map<number, number>();
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    await fc.assert(fc.asyncProperty(requests(() => known, () => stack.central), async (req) => {
      const t0 = performance.now();
      const res = await stack.app.inject(req.inject);
      if (PROFILE) { const k = req.kind.replace(/ .*\[/, ' [').replace(/:(replace|delete|add|,)+/g, ''); const e = PROFILE.get(k) ?? [0, 0]; e[0]++; e[1] += performance.now() - t0; PROFILE.set(k, e); }
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 503 && process.env.FUZZ_DEBUG) process.stdout.write(`503 ${JSON.stringify(stack.app.memoryUsage())} ${res.body.slice(0, 200)}\n`);
      const bad = violation(req, res);
      if (bad) throw new Error(`${req.kind}: ${bad}`);
      if (res.statusCode === 202 && req.inject.url === '/v1/messages' && known.length < 500) known.push((JSON.parse(res.body) as { id: string }).id);
      if (stack.errorLines.length) throw new Error(`${req.kind}: logged at error level: ${stack.errorLines.splice(0).join('\n').slice(0, 500)}`);
      if (++n % 100 === 0) {
        const live = await stack.app.inject({ method: 'GET', url: '/health/live' });
        if (live.statusCode !== 200) throw new Error(`/health/live answered ${live.statusCode} after ${n} requests`);
      }
    }), { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), ...(PATH ? { path: PATH } : {}), endOnFailure: RUNS > 10000 });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`api fuzz: ${n} requests in ${seconds.toFixed(1)} s (${(n / seconds).toFixed(0)}/s), ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}\n`);
    if (PROFILE) process.stdout.write([...PROFILE].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25).map(([k, [c, ms]]) => `${ms.toFixed(0).padStart(7)} ms ${String(c).padStart(6)} × ${k}`).join('\n') + '\n');
    // the run reached past the edge: accepted messages, schema refusals and XML refusals all occurred
    if (RUNS >= 1000) for (const s of [200, 202, 400, 401, 404, 415, 422]) expect(statuses.get(s) ?? 0).toBeGreaterThan(0);
    expect((await stack.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  }, 120_000 + RUNS * 20);
});
