/**
 * The bench's processes: the gateway (`davis serve`, or the baseline without audit records),
 * the mock central (`davis mock-vis`) and the load generator (`load-child.js`) each in a
 * process of its own, so that the CPU each spends can be read from `/proc/<pid>/stat`; and the
 * broker's Erlang VM, found by its name.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import amqp from 'amqplib';
import { allQueues } from '../src/queue/amqp-broker';
import type { LoadSummary } from '../src/load/run';

export const ROOT = path.resolve(__dirname, '..', '..');
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const BIN = path.join(ROOT, 'bin', 'davis.js');

let ticks: number | undefined;
/** Kernel clock ticks per second (`getconf CLK_TCK`, 100 on Linux). */
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticks;
}

/** CPU time of a process so far (utime + stime of `/proc/<pid>/stat`, every thread), ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name in parentheses (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks();
}

/** A `/proc/<pid>/status` figure in MB (`VmRSS`, `VmHWM`: the peak resident set since start). */
export function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * The pid of the RabbitMQ node's Erlang VM (`beam.smp` whose command line names rabbit), the
 * one that has used the most CPU if there are several; undefined when none runs here.
 */
export function brokerPid(port = Number(new URL(AMQP_URL).port || 5672)): number | undefined {
  // The node that listens on the broker's port: other RabbitMQ nodes on the machine (a local
  // cluster of test nodes) would otherwise be taken for it.
  const inodes = listeningInodes(port);
  let best: { pid: number; cpu: number } | undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'beam.smp') continue;
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('rabbit')) continue;
      if (inodes.size && readdirSync(`/proc/${d}/fd`).some((fd) => inodes.has(readlinkOr(`/proc/${d}/fd/${fd}`)))) return Number(d);
      const cpu = cpuMs(Number(d));
      if (!best || cpu > best.cpu) best = { pid: Number(d), cpu };
    } catch {
      // the process ended meanwhile, or its fds are not ours to read
    }
  }
  return best?.pid;
}

/** `socket:[inode]` of every socket listening on `port` (IPv4 and IPv6), from /proc/net. */
function listeningInodes(port: number): Set<string> {
  const out = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      if (parseInt(cols[1].split(':').at(-1) ?? '', 16) === port) out.add(`socket:[${cols[9]}]`);
    }
  }
  return out;
}

function readlinkOr(p: string): string {
  try { return readlinkSync(p); } catch { return ''; }
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns `node args…` and resolves once its stdout matches `ready` (with the match), or rejects if it exits first. */
async function spawnReady(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let buf = '';
    const onExit = (code: number | null) => reject(new Error(`${path.basename(args[0])} ${args[1] ?? ''} exited with ${code} before it was ready: ${buf.slice(-500)}`));
    child.once('exit', onExit);
    let done = false;
    // The stream keeps flowing after that (a child blocked on a full pipe would stall), unread.
    child.stdout.on('data', (d: Buffer) => {
      if (done) return;
      buf += d.toString();
      const m = ready.exec(buf);
      if (m) {
        done = true;
        buf = '';
        child.off('exit', onExit);
        resolve(m);
      }
    });
  });
  return { child, match };
}

/** Sends SIGTERM and waits for the exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** The mock central VIS as a process (`davis mock-vis`), with its control endpoints. */
export class MockProcess {
  private constructor(readonly child: ChildProcess, readonly url: string, readonly controlUrl: string) {}

  get pid(): number {
    return Number(this.child.pid);
  }

  /** Starts it with the PKI in `pkiDir`; `port` 0 picks a free one. */
  static async start(pkiDir: string, dir: string, port = 0): Promise<MockProcess> {
    const cfg = path.join(dir, `mock-${port}-${Date.now()}.json`);
    writeFileSync(cfg, JSON.stringify({ dataDir: dir, log: { level: 'warn' } }));
    const { child, match } = await spawnReady([BIN, 'mock-vis', '--config', cfg, '--pki', pkiDir, '--port', String(port), '--control-port', '0'],
      /mock central VIS on (\S+)\ncontrol endpoints on (\S+)\/_mock\//);
    return new MockProcess(child, match[1], match[2]);
  }

  /** Forgets every message and the central state (frees the mock's memory between parts). */
  async reset(): Promise<void> {
    const res = await fetch(`${this.controlUrl}/_mock/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`mock reset: HTTP ${res.status}`);
  }

  /** Every message id received, in arrival order. */
  async received(): Promise<{ id: string; type: string; code: string; repeats: number }[]> {
    const res = await fetch(`${this.controlUrl}/_mock/received`);
    if (!res.ok) throw new Error(`mock received: HTTP ${res.status}`);
    return ((await res.json()) as { items: { id: string; type: string; code: string; repeats: number }[] }).items;
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

/** Paths of the dev PKI the bench made. */
export interface BenchPki {
  readonly caCert: string;
  readonly gatewayKey: string;
  readonly gatewayCert: string;
}

/** The gateway as a process, on its own data folder and queue prefix. */
export class GatewayProc {
  private constructor(readonly child: ChildProcess, readonly url: string, readonly prefix: string, readonly dataDir: string) {}

  get pid(): number {
    return Number(this.child.pid);
  }

  /**
   * Starts `davis serve` (or, with `withAudit` false, `serve-without-audit.js`: the same
   * gateway with its audit records going nowhere). `BENCH_GATEWAY_NODE_ARGS` is passed to node
   * (e.g. `--cpu-prof --cpu-prof-dir=DIR`).
   */
  static async start(o: { pki: BenchPki; dir: string; name: string; centralUrl: string; withAudit?: boolean; config?: Record<string, unknown> }): Promise<GatewayProc> {
    const port = await freePort();
    const prefix = `bench.${Math.random().toString(16).slice(2, 10)}.`;
    const dataDir = path.join(o.dir, `data-${o.name}`);
    const cfgFile = path.join(o.dir, `gateway-${o.name}.json`);
    const { pki } = o;
    writeFileSync(cfgFile, JSON.stringify({
      mode: 'dev', dataDir, gateway: { port }, amqp: { url: AMQP_URL, prefix },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: { url: o.centralUrl, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey },
      log: { level: 'warn' }, ...o.config,
    }));
    const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const main = o.withAudit === false ? [path.join(__dirname, 'serve-without-audit.js')] : [BIN, 'serve', '--config'];
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL'));
    const { child } = await spawnReady([...nodeArgs, ...main, cfgFile], /listening/, env);
    return new GatewayProc(child, `http://127.0.0.1:${port}`, prefix, dataDir);
  }

  /** Stops it and removes its queues and exchanges from the broker. */
  async stop(): Promise<void> {
    await stopChild(this.child);
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      for (const q of allQueues(this.prefix, 8)) await ch.deleteQueue(q);
      await ch.deleteExchange(`${this.prefix}work`);
      await ch.deleteExchange(`${this.prefix}delay`);
      await ch.close();
    } finally {
      await conn.close();
    }
  }
}

/** What `load-child.js` prints. */
export type ChildSummary = LoadSummary & { readonly startedAt: number };

/**
 * Runs the load generator as a child process and resolves with its summary. Its `cpuMs` is the
 * child's own CPU over the load (`process.cpuUsage`: the kernel's utime + stime of the process,
 * the same counters as `/proc/<pid>/stat`), without its start-up.
 */
export async function loadChild(opts: { url: string; keyPrefix: string; rate?: number; durationS?: number; concurrency?: number; count?: number }): Promise<ChildSummary> {
  const child = spawn(process.execPath, [path.join(__dirname, 'load-child.js'), JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(out) as ChildSummary;
}
