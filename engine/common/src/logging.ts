import { pino, type Logger } from 'pino';

/** JSON logs; secrets are redacted wherever they could appear. */
export function createLogger(level: string, fd: 1 | 2 = 1, name = 'veloz'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          'apiKey',
          'apiSecret',
          '*.apiKey',
          '*.apiSecret',
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'headers.authorization',
          'headers["x-api-key"]',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd, sync: false }),
  );
}
