import { readFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import type { Config } from '../config/config';
import { DavisError, reasonOf } from '../errors/errors';
import type { CentralClient, CentralHttpAnswer } from './central';


/** Options of the HTTPS (mutual TLS) central client: the `central` configuration section's endpoint keys (see `src/config/schema.ts`). */
export interface HttpsCentralOptions extends Pick<Config['central'], 'url' | 'caFile' | 'certFile' | 'keyFile' | 'timeoutMs' | 'probeUrl'> {
  /** Largest answer accepted, bytes. @default 4194304 */
  readonly maxAnswerBytes?: number;
}

/** HTTPS client with mutual TLS and a keep-alive agent (one TLS handshake serves many messages). */
export class HttpsCentralClient implements CentralClient {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly opts: HttpsCentralOptions) {
    this.url = new URL(opts.url);
    this.agent = this.url.protocol === 'https:'
      ? new https.Agent({
        keepAlive: true,
        maxSockets: 64,
        ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
        cert: opts.certFile ? readFileSync(opts.certFile) : undefined,
        key: opts.keyFile ? readFileSync(opts.keyFile) : undefined,
        minVersion: 'TLSv1.2',
      })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  send(xml: string, messageId: string): Promise<CentralHttpAnswer> {
    const mod = this.url.protocol === 'https:' ? https : http;
    const max = this.opts.maxAnswerBytes ?? 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = mod.request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/xml; charset=utf-8', 'content-length': Buffer.byteLength(xml), 'x-davis-message-id': messageId },
        timeout: this.opts.timeoutMs,
      }, (res) => {
        res.once('close', () => clearTimeout(deadline));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            req.destroy(new Error(`central answer exceeds ${max} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(transportError(err)));
      });
      // `timeout` above only limits idleness: a central that sends a byte a second never trips it.
      // The deadline bounds the whole exchange, from connecting to the answer's last byte.
      const deadline = setTimeout(() => req.destroy(Object.assign(new Error(`central did not answer within ${this.opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.opts.timeoutMs);
      deadline.unref();
      req.on('timeout', () => req.destroy(Object.assign(new Error(`central was idle for ${this.opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => { clearTimeout(deadline); reject(transportError(err)); });
      req.end(xml);
    });
  }

  probe(): Promise<void> {
    const url = new URL(this.opts.probeUrl ?? this.opts.url);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const limit = Math.min(this.opts.timeoutMs, 5000);
      const req = mod.request(url, { method: 'GET', agent: this.agent, timeout: limit }, (res) => {
        res.once('close', () => clearTimeout(deadline));
        res.resume();
        res.on('end', () => ((res.statusCode ?? 500) < 500 ? resolve() : reject(new Error(`central probe answered HTTP ${res.statusCode}`))));
      });
      const deadline = setTimeout(() => req.destroy(Object.assign(new Error('central probe timed out'), { code: 'ETIMEDOUT' })), limit);
      deadline.unref();
      req.on('timeout', () => req.destroy(Object.assign(new Error('central probe timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => { clearTimeout(deadline); reject(transportError(err)); });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function transportError(err: Error & { code?: string }): DavisError {
  return new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', { reason: reasonOf(err) }, { cause: err });
}
