/**
 * Loads the development tools (the mock central VIS, the development PKI) only when a
 * command asks for them. The production image ships neither: there `davis mock-vis`,
 * `davis dev` and `davis certs init` say so and exit 2, and no production command ever
 * loads them.
 */
import type * as DevPki from '../dev/dev-pki';
import type * as MockServer from '../../mocks/central/server';

/** A development tool this installation does not have; the command exits 2 with the message. */
export class DevToolMissing extends Error {}

function isMissing(err: unknown, file: RegExp): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && file.test(String(e.message));
}

/** The mock central VIS (mocks/central/server). */
export async function loadMock(): Promise<typeof MockServer> {
  try {
    return await import('../../mocks/central/server');
  } catch (err) {
    if (isMissing(err, /mocks[\\/]central[\\/]server/)) throw new DevToolMissing('the mock central VIS is not in this image (it ships in the "mock" image target)');
    throw err;
  }
}

/** The development PKI (src/dev/dev-pki). */
export async function loadDevPki(): Promise<typeof DevPki> {
  try {
    return await import('../dev/dev-pki');
  } catch (err) {
    if (isMissing(err, /dev[\\/]dev-pki/)) throw new DevToolMissing('the development PKI is not in this image (it ships in the "mock" image target)');
    throw err;
  }
}
