import pino, { type Logger } from 'pino';

/**
 * The operator log: pino, structured JSON, one line per event. Lines carry ids (message id,
 * correlation id, codes), never payload content: no names, document numbers, birth dates
 * or biometrics. Nothing here serialises a request body.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'davis-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Headers can carry bearer tokens; request bodies are never logged at all.
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  }, destination ?? pino.destination(1));
}
