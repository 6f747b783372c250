import { sha256Hex } from '../util/sha256';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DavisError } from '../errors/errors';

/**
 * A wire XML body. The XML content-type parser is the only place that makes one, so a route
 * takes its XML path because of the declared media type, never because a JSON body happened
 * to be a string.
 */
export class XmlBody {
  constructor(readonly text: string) {}
}

/** SHA-256 of each request's raw body bytes as received: same bytes = same body (idempotency). */
const rawHashes = new WeakMap<FastifyRequest, string>();

/** The raw body hash the content-type parser recorded, if it parsed a body. */
export function rawBodyHash(req: FastifyRequest): string | undefined {
  return rawHashes.get(req);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Only JSON and (wire) XML: anything else is 415, not a string to validate. Both read the raw
 * bytes: a declared charset other than UTF-8 is 415, bytes that are not UTF-8 are 400 (decoding
 * with U+FFFD would deliver corrupted names to central), JSON objects with a repeated key are 400.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      const text = decodeBody(req, body as Buffer);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new DavisError('DAVIS_ERR_REQUEST_MALFORMED', 'the body is not valid JSON', { cause: err });
      }
      const dup = firstDuplicateKey(text);
      if (dup !== undefined) throw new DavisError('DAVIS_ERR_REQUEST_DUPLICATE_KEY', `the key ${JSON.stringify(dup.slice(0, 64))} appears twice in one object`);
      done(null, value);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, new XmlBody(decodeBody(req, body as Buffer)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

function decodeBody(req: FastifyRequest, body: Buffer): string {
  const charset = charsetOf(req.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new DavisError('DAVIS_ERR_REQUEST_CHARSET', `charset ${JSON.stringify(charset.slice(0, 40))} is not accepted; send UTF-8`);
  }
  rawHashes.set(req, sha256Hex(body));
  try {
    return utf8.decode(body);
  } catch (err) {
    throw new DavisError('DAVIS_ERR_REQUEST_ENCODING', 'the body is not valid UTF-8', { cause: err });
  }
}

/** The `charset` parameter of a Content-Type header, lower-cased and unquoted. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/**
 * The first key that appears twice in one object of a JSON text already accepted by
 * `JSON.parse`, compared after unescaping (`"type"` and `"\u0074ype"` are the same key).
 * Hand-written because the npm candidates do not do this job: lossless-json lets a repeated key
 * through when both values are equal, and json-dup-key-validator (last release 2016) is a
 * recursive parser that overflows the stack on deeply nested input. This is one linear pass
 * with an explicit stack; string contents are skipped with `indexOf`.
 */
export function firstDuplicateKey(text: string): string | undefined {
  // One frame per open container: a key set for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  // Next quote and next backslash, each searched again only once passed: the pass stays linear.
  let quote = -1;
  let backslash = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (;;) {
        if (quote <= i) quote = text.indexOf('"', i + 1);
        if (backslash <= i) {
          const b = text.indexOf('\\', i + 1);
          backslash = b < 0 ? Infinity : b;
        }
        if (backslash < quote) { escaped = true; i = backslash + 1; continue; }
        i = quote;
        break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const raw = text.slice(start + 1, i);
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}
