/** Starting and stopping the long-running commands (`serve`, `dev`, `mock-vis`). */
import type { Gateway } from '../app/gateway';
import { redactUrl, type Config } from '../config/config';
import { isDavisError } from '../errors/errors';
import type { Io } from './command';

/** Starts the gateway; false after explaining how to start a broker when none is reachable. */
export async function startOrExplain(gw: Gateway, config: Config, io: Io): Promise<boolean> {
  try {
    await gw.start();
    return true;
  } catch (err) {
    if (isDavisError(err) && err.code === 'DAVIS_ERR_BROKER_UNAVAILABLE') {
      io.err(`\ndavis: cannot reach RabbitMQ at ${redactUrl(config.amqp.url)} (${(err.cause as Error)?.message ?? err.message}). ` +
        'The gateway journals and queues every message through a RabbitMQ broker and will not start without one. ' +
        'Start a local broker (Debian/Ubuntu: `sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached`; ' +
        'or `docker compose up -d rabbitmq` in this folder), or point AMQP_URL at a reachable broker, then start again.\n\n');
      return false;
    }
    throw err;
  }
}

/** Resolves with exit code 0 after SIGINT or SIGTERM and a clean stop; SIGHUP calls `onHangup` (PKI reload). */
export function waitForSignal(stop: () => Promise<void>, onHangup?: () => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const hup = () => onHangup?.();
    // Without a handler Node's default for SIGHUP ends the process.
    process.on('SIGHUP', hup);
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      process.off('SIGHUP', hup);
      stop().then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
