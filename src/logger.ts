/**
 * Logs: JSON lines on stderr (fd 2) through a synchronous destination, so
 * nothing is lost when the process exits and nothing ever reaches stdout,
 * which carries protocol messages only. No worker-thread transports.
 */
import { type Logger, pino } from 'pino';

export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: destination, sync: true }),
  );
}
