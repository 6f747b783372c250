/** `davis sign FILE`: an enveloped XML-DSig signature on a wire document, to stdout. */
import { isDavisError } from '../../errors/errors';
import { loadSigningKey } from '../../signing/pki';
import { signEnveloped } from '../../signing/xmldsig';
import { WIRE_SCREEN_LIMITS } from '../../wire/envelope';
import { readInput, usageError, type Command } from '../command';

const HELP = `Usage: davis sign FILE --key KEY.pem --cert CERT.pem
       davis sign FILE --p12 ID.p12 [--passphrase P]

Signs the wire XML document FILE with an enveloped XML-DSig signature (exclusive C14N,
RSA-SHA256 or ECDSA-SHA256 by the key type, the certificate in KeyInfo) and writes the signed
document to stdout. The passphrase may also come from DAVIS_SIGNING_PASSPHRASE.

Exit codes: 0 signed, 1 the document is refused (the line names the code, e.g. a DOCTYPE),
2 a file or key cannot be read.
`;

export const signCommand: Command = {
  options: { key: { type: 'string' }, cert: { type: 'string' }, p12: { type: 'string' }, passphrase: { type: 'string' } },
  help: HELP,
  async run(v, files, io) {
    if (files.length !== 1) throw usageError(files.length ? `one FILE, not ${files.length}` : 'a FILE to sign is required');
    if (!v.p12 && !(v.key && v.cert)) throw usageError(v.key ? '--cert is required with --key' : v.cert ? '--key is required with --cert' : '--key and --cert (or --p12) are required');
    const key = v.p12
      ? loadSigningKey({ p12File: String(v.p12), passphrase: String(v.passphrase ?? process.env.DAVIS_SIGNING_PASSPHRASE ?? '') })
      : loadSigningKey({ keyFile: String(v.key), certFile: String(v.cert) });
    const xml = readInput(files[0], io);
    if (xml === undefined) return 2;
    try {
      io.out(signEnveloped(xml, key, { limits: WIRE_SCREEN_LIMITS }));
      return 0;
    } catch (err) {
      if (!isDavisError(err)) throw err;
      io.err(`${files[0]}: refused: ${err.code}: ${err.message}\n`);
      return 1;
    }
  },
};
