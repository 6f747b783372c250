import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const BIN = path.join(__dirname, '..', '..', 'bin', 'davis.js');

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

/**
 * The gateway as a real child process (`davis serve --config F`), for tests that kill it,
 * stop it with a signal, or need its own memory. Needs the compiled program (`npm run build`;
 * `npm test` builds first).
 */
export class GatewayProcess {
  child?: ChildProcess;
  readonly url: string;
  /** Exits nobody asked for (a crash), with their code or signal and time. */
  readonly unexpectedExits: string[] = [];
  private readonly configFile: string;

  constructor(dir: string, readonly port: number, config: Record<string, unknown>, private readonly logFile = path.join(dir, 'gateway.log')) {
    this.url = `http://127.0.0.1:${port}`;
    this.configFile = path.join(dir, 'gateway.json');
    // As in ./stack: start-up work on shared cores must not read as overload (backpressure has its own tests).
    const gateway = { pressure: { maxEventLoopDelayMs: 0 }, ...(config.gateway as object), port };
    writeFileSync(this.configFile, JSON.stringify({ ...config, gateway }, null, 2));
  }

  /** Starts it and resolves once it listens. */
  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL'));
    const child = spawn(process.execPath, [BIN, 'serve', '--config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = child;
    child.stderr.pipe(log);
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`gateway exited with ${code} before listening (log: ${this.logFile})`));
      child.once('exit', onExit);
      let buf = '';
      let listening = false;
      child.stdout.on('data', (d: Buffer) => {
        log.write(d);
        if (listening) return;
        buf += d.toString();
        if (buf.includes('listening on')) {
          listening = true;
          buf = '';
          child.off('exit', onExit);
          child.once('exit', (code, sig) => {
            if (this.child === child) this.unexpectedExits.push(`exited ${code ?? sig ?? 'unknown'} at ${new Date().toISOString()} (log: ${this.logFile})${lastFatal(this.logFile)}`);
          });
          resolve();
        }
      });
    });
  }

  /** Sends a signal and resolves with the exit code (or the signal's name). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    const child = this.child;
    if (!child) return 'not running';
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? 'not running';
    const done = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
    this.child = undefined;
    child.kill(signal);
    const res = await done;
    this.child = undefined;
    return res;
  }
}

/** The last fatal line of a gateway log (`exitOnUnhandled`), for the report of an instance that ended by itself. */
function lastFatal(file: string): string {
  try {
    const line = readFileSync(file, 'utf8').split('\n').reverse().find((l) => l.includes('"level":60'));
    return line ? `: ${line.slice(0, 2000)}` : '';
  } catch {
    return '';
  }
}
