/**
 * Central's identity: what makes a signature (or a TLS client certificate) central's.
 *
 * A signature that chains to a trusted CA proves only that the CA issued the signer's
 * certificate. With one CA for central, the gateway and the UMA clients, any holder of a
 * certificate from it would pass for central. So central's documents are verified against
 * central's own anchors (`signing.central.trust`) AND the signer must be pinned: its subject
 * among `signing.central.subjects`, or its certificate or SubjectPublicKeyInfo SHA-256 among
 * `signing.central.fingerprints`. Anything else is DAVIS_ERR_SIG_NOT_CENTRAL.
 *
 * Pins are compared to the leaf of the validated path, never to a certificate the document
 * merely carries.
 */
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import * as px from '@peculiar/x509';
import { DavisError } from '../errors/errors';
import { certificateInfo, certificateSha256, normalizeName, type CertificateInfo, type NormalizedName } from './certificates';
import { checkOcsp, type OcspOptions } from './ocsp';
import type { TrustStore, VerifiedDocument } from './types';

/**
 * The subject the development PKI gives the mock central (`davis certs init`, `npm start`):
 * the pin dev mode uses when none is configured, so dev mode refuses the gateway's and the
 * UMA client's certificates as central's although one CA issued all three.
 */
export const DEV_CENTRAL_SUBJECT = 'CN=vis-central-mock, O=DAVIS development, OU=central';

/** How central is recognised (`signing.central` in the configuration). */
export interface CentralPinOptions {
  /** Subject DNs central signs with, RFC 4514 (`CN=…, O=…`); compared attribute by attribute, case-insensitively. */
  readonly subjects?: readonly string[];
  /** SHA-256 of central's certificate or of its SubjectPublicKeyInfo, hex (colons allowed). */
  readonly fingerprints?: readonly string[];
}

/** Central's identity, as the readers of answers and notifications use it. */
export interface CentralIdentity {
  /** Central's trust anchors (and CRLs) now; fetch once per document. */
  trust(): TrustStore;
  /** Refuses (DAVIS_ERR_SIG_NOT_CENTRAL) a verified document whose signer is not pinned. */
  assertSigner(verified: VerifiedDocument): void;
  /** Refuses (DAVIS_ERR_SIG_NOT_CENTRAL) a certificate, e.g. a TLS client's, that is not central's pinned one. */
  assertCertificate(cert: X509Certificate | CertificateInfo): void;
  /** Asks OCSP about the verified signer when `signing.ocsp` is configured; resolves at once otherwise. */
  checkRevocation(verified: VerifiedDocument): Promise<void>;
}

/** A DN as a sorted list of its RDNs: RFC 4514 text lists RDNs in reverse, people in either order. */
function rdnSet(name: NormalizedName): string {
  return name.map((rdn) => rdn.join('+')).sort().join('\n');
}

function fingerprintOf(text: string): string {
  return text.replace(/:/g, '').toLowerCase();
}

/**
 * Builds central's identity. At least one pin is required: without one, "chains to the
 * anchors" would be the whole check again.
 *
 * @throws DavisError DAVIS_ERR_CONFIG_INVALID when no pin is given or a subject or fingerprint cannot be read
 */
export function centralIdentity(opts: CentralPinOptions & { readonly trust: () => TrustStore; readonly ocsp?: OcspOptions }): CentralIdentity {
  const subjects = new Set<string>();
  for (const s of opts.subjects ?? []) {
    try {
      // Short attribute names are case-insensitive in RFC 4514; the parser knows them upper-case.
      const text = s.replace(/(^|[,+])(\s*)([A-Za-z]{1,2})(\s*)=/g, (_m, sep: string, a: string, t: string, b: string) => `${sep}${a}${t.toUpperCase()}${b}=`);
      subjects.add(rdnSet(normalizeName(new px.Name(text))));
    } catch (e) {
      throw new DavisError('DAVIS_ERR_CONFIG_INVALID', `signing.central.subjects: cannot read the DN "${s}"`, { cause: e });
    }
  }
  const fingerprints = new Set<string>();
  for (const f of opts.fingerprints ?? []) {
    const hex = fingerprintOf(f);
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new DavisError('DAVIS_ERR_CONFIG_INVALID', `signing.central.fingerprints: "${f}" is not a SHA-256 in hex`);
    fingerprints.add(hex);
  }
  if (!subjects.size && !fingerprints.size) {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', 'signing.central needs subjects or fingerprints: central\'s identity must be pinned');
  }
  const pinned = (info: CertificateInfo): boolean =>
    fingerprints.has(info.spkiSha256) || fingerprints.has(certificateSha256(info)) || subjects.has(rdnSet(info.subjectName));
  const assertCertificate = (cert: X509Certificate | CertificateInfo): void => {
    const info = cert instanceof X509Certificate ? certificateInfo(cert) : cert;
    // The subject is not in the message: it names a person's organisation only in odd set-ups, but stays out of logs anyway.
    if (!pinned(info)) throw new DavisError('DAVIS_ERR_SIG_NOT_CENTRAL', 'The certificate is not central\'s pinned certificate');
  };
  return Object.freeze({
    trust: opts.trust,
    assertSigner: (verified: VerifiedDocument) => assertCertificate(verified.certificate),
    assertCertificate,
    async checkRevocation(verified: VerifiedDocument): Promise<void> {
      if (!opts.ocsp) return;
      const path = (verified.chain ?? [verified.certificate]).map(certificateInfo);
      await checkOcsp(path, opts.ocsp);
    },
  });
}
