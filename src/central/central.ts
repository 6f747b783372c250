/**
 * The central port: what the dispatcher needs from the central VIS. The HTTPS adapter with
 * mutual TLS (central-https.ts) implements it in production; unit tests use a fake.
 */

/** What central answered at the HTTP level, before its signature is checked. */
export interface CentralHttpAnswer {
  /** HTTP status; below 500 the body is central's answer document (signed XML). */
  readonly status: number;
  /** The answer body as received, not yet verified. */
  readonly body: string;
}

/** Sends signed wire documents to central and reports whether central is reachable. */
export interface CentralClient {
  /**
   * Sends one signed wire document. Central is idempotent on `messageId`, so sending the
   * same message again after a lost answer is safe.
   *
   * @throws DavisError DAVIS_ERR_CENTRAL_TRANSPORT on timeout, refused or reset connections, TLS failures
   */
  send(xml: string, messageId: string): Promise<CentralHttpAnswer>;
  /**
   * A side-effect-free request (GET on the probe URL): resolves if central answers below
   * HTTP 500. The circuit breaker calls it to decide when to resume sending.
   */
  probe(): Promise<void>;
  /** Releases the connections kept alive; no request may follow. */
  close(): void;
}
