/**
 * The bench's load generator, run as a process of its own so that `bench/run.ts` can read its
 * CPU apart from the gateway's and the mock's: `src/load` with the options in argv[2] (JSON:
 * `url`, `keyPrefix`, and either `rate` + `durationS` or `concurrency` + `count`). Sends the
 * first valid `vis.application.create` example, each message with the application number
 * `<keyPrefix>-<i>`; prints the load's summary as one JSON line on stdout, with `startedAt`
 * (epoch ms of the first send).
 *
 * Usage: node dist/bench/load-child.js '{"url":"http://127.0.0.1:8080","keyPrefix":"B","rate":300,"durationS":20}'
 */
import { loadTemplates, messageBody } from '../src/load/payloads';
import { runLoad } from '../src/load/run';

interface ChildOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly rate?: number;
  readonly durationS?: number;
  readonly concurrency?: number;
  readonly count?: number;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
  const [t] = loadTemplates(['vis.application.create']);
  const startedAt = Date.now();
  const summary = await runLoad({
    url: o.url,
    ...(o.rate !== undefined ? { rate: o.rate, durationS: o.durationS } : { concurrency: o.concurrency, count: o.count }),
    body: (i) => messageBody(t, `${o.keyPrefix}-${i}`),
  });
  process.stdout.write(JSON.stringify({ ...summary, startedAt }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`load child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
