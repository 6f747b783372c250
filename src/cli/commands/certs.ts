/** `davis certs init DIR`: a development PKI (not in the production image). */
import path from 'node:path';
import { usageError, type Command } from '../command';
import { loadDevPki } from '../dev-tools';

const HELP = `Usage: davis certs init DIR [--host NAME]...

Creates a development PKI in DIR: ca.crt.pem/ca.key.pem, gateway.crt.pem/gateway.key.pem
(+ gateway.p12, passphrase "changeit"), central.crt.pem/central.key.pem and
uma-client.crt.pem/uma-client.key.pem. The server certificates name localhost and
127.0.0.1; --host adds a DNS name (repeatable, e.g. container names). For development
and tests only.
`;

export const certsCommand: Command = {
  options: { host: { type: 'string', multiple: true } },
  help: HELP,
  async run(v, pos, io) {
    if (pos[0] !== 'init') throw usageError(pos[0] ? `unknown subcommand "${pos[0]}" (init)` : 'a subcommand is required: init DIR');
    if (pos.length !== 2) throw usageError(pos.length < 2 ? 'init: a DIR is required' : `init: one DIR, not ${pos.length - 1}`);
    const extra = (v.host as unknown as string[] | undefined) ?? [];
    const { createDevPki } = await loadDevPki();
    const files = await createDevPki(path.resolve(pos[1]), extra.length ? { hosts: ['localhost', '127.0.0.1', ...extra] } : {});
    io.out(`development PKI written (not for production):\n${Object.entries(files).map(([k, f]) => `  ${k}: ${f}`).join('\n')}\n`);
    return 0;
  },
};
