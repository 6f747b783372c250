/** Starting and stopping the long-running commands (`serve`, `dev`, `mock-vis`). */
import type { Gateway } from '../app/gateway';
import { redactUrl, type Config } from '../config/config';
import { isDavisError } from '../errors/errors';
import type { Logger } from 'pino';
import type { Io } from './command';

/** Starts the gateway; false after explaining how to start a broker when none is reachable. */
export async function startOrExplain(gw: Gateway, config: Config, io: Io): Promise<boolean> {
  try {
    await gw.start();
    return true;
  } catch (err) {
    if (isDavisError(err) && err.code === 'DAVIS_ERR_BROKER_UNAVAILABLE') {
      io.err(`\ndavis: cannot reach RabbitMQ at ${config.amqp.urls.map(redactUrl).join(', ')} (${(err.cause as Error)?.message ?? err.message}). ` +
        'The gateway journals and queues every message through a RabbitMQ broker and will not start without one. ' +
        'Start a local broker (Debian/Ubuntu: `sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached`; ' +
        'or `docker compose up -d rabbitmq` in this folder), or point AMQP_URL at a reachable broker, then start again.\n\n');
      return false;
    }
    throw err;
  }
}

/**
 * Ends the process with code 1 on an error nothing handled (an uncaught exception, a rejected
 * promise nobody awaited), after one `fatal` line in the operator log naming it: its code, its
 * message and the stack's frames (code locations, no payload). Node's own report goes only to
 * stderr, where an operator reading the JSON log would not see why an instance ended.
 */
export function exitOnUnhandled(logger: Logger, exit: (code: number) => void = (code) => process.exit(code), proc: NodeJS.EventEmitter = process): void {
  const fatal = (what: string) => (err: unknown): void => {
    const e = err as { code?: unknown; message?: unknown; stack?: unknown };
    logger.fatal({
      err: { ...(typeof e?.code === 'string' ? { code: e.code } : {}), message: String(e?.message ?? err), ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}) },
    }, `${what}: the process ends`);
    exit(1);
  };
  proc.on('uncaughtException', fatal('uncaught exception'));
  proc.on('unhandledRejection', fatal('unhandled promise rejection'));
}

/** Options of {@link waitForSignal}. */
export interface SignalOptions {
  /** Called on SIGHUP (the PKI reload). */
  readonly onHangup?: () => void;
  /**
   * Longest time the whole stop may take, ms; past it the process exits with code 1, whatever
   * is still open. @default no deadline
   */
  readonly deadlineMs?: number;
  /** How the process ends at once (a second signal, the deadline). @default process.exit */
  readonly exit?: (code: number) => void;
  /** Where the reason for an abrupt exit is written. @default process.stderr */
  readonly err?: (s: string) => void;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Resolves with exit code 0 after SIGINT or SIGTERM and a clean stop (1 when the stop failed).
 * A second SIGINT or SIGTERM during the stop exits at once (130 / 143), as an operator pressing
 * Ctrl-C twice expects; the stop's deadline exits with 1. SIGHUP calls `onHangup`.
 */
export function waitForSignal(stop: () => Promise<void>, opts: SignalOptions | (() => void) = {}): Promise<number> {
  const o: SignalOptions = typeof opts === 'function' ? { onHangup: opts } : opts;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const err = o.err ?? ((s: string) => { process.stderr.write(s); });
  return new Promise((resolve) => {
    let stopping = false;
    let deadline: NodeJS.Timeout | undefined;
    const hup = () => o.onHangup?.();
    // Without a handler Node's default for SIGHUP ends the process.
    process.on('SIGHUP', hup);
    const finish = (code: number) => {
      if (deadline) clearTimeout(deadline);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        err(`davis: ${signal} again: exiting without waiting for the stop to finish\n`);
        exit(SIGNAL_EXIT[signal] ?? 1);
        return;
      }
      stopping = true;
      process.off('SIGHUP', hup);
      if (o.deadlineMs !== undefined) {
        deadline = setTimeout(() => {
          err(`davis: the stop did not finish within ${o.deadlineMs} ms: exiting\n`);
          exit(1);
        }, o.deadlineMs);
        deadline.unref();
      }
      stop().then(() => finish(0), () => finish(1));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * The deadline of a gateway's whole stop: open HTTP requests get `shutdownTimeoutMs`, in-flight
 * deliveries as long again, and closing the broker and journal five seconds.
 */
export function stopDeadlineMs(config: Config): number {
  return 2 * config.shutdownTimeoutMs + 5000;
}
