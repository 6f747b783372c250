/** `davis verify FILE`: the signature and the strict signing profile, not the schema. */
import path from 'node:path';
import { loadConfig } from '../../config/config';
import { isDavisError } from '../../errors/errors';
import { loadTrustStore } from '../../signing/pki';
import { verifyEnveloped } from '../../signing/xmldsig';
import { configFileOf, configOption, readInput, usageError, type Command } from '../command';

const HELP = `Usage: davis verify FILE [--trust CA.pem|DIR] [--config FILE]

Verifies the signature of FILE and the strict signing profile (one signature under the root,
one whole-document reference, allowed transforms and algorithms, certificate chain, validity,
key usage). It does not check the schema. --trust takes a PEM file or a folder holding only
CA certificates (*.pem, *.crt). Without --trust, the dev PKI's CA
(<dataDir>/pki/ca.crt.pem) is used.

Exit codes: 0 valid, 1 refused (the line names the rule's error code), 2 cannot read.
`;

export const verifyCommand: Command = {
  options: { trust: { type: 'string' }, ...configOption },
  help: HELP,
  async run(v, files, io) {
    if (files.length !== 1) throw usageError(files.length ? `one FILE, not ${files.length}` : 'a FILE to verify is required');
    const trustPath = v.trust ? String(v.trust) : path.join(loadConfig(configFileOf(v)).dataDir, 'pki', 'ca.crt.pem');
    const trust = loadTrustStore(trustPath);
    const xml = readInput(files[0], io);
    if (xml === undefined) return 2;
    try {
      const res = verifyEnveloped(xml, trust);
      io.out(`${files[0]}: signature valid (${res.algorithm}, signed by ${res.certificate.subject.replace(/\n/g, ', ')})\n`);
      return 0;
    } catch (err) {
      if (!isDavisError(err)) throw err;
      io.out(`${files[0]}: refused: ${err.code}: ${err.message}\n`);
      return 1;
    }
  },
};
