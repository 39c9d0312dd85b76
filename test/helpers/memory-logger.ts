/** A logger that records its lines in memory (debug included), for tests and the bench. */
import { createLogger, type Logger } from '../../src/log.js';

/** A logger whose lines (verbs and masking as on stderr, no colour) land in `lines`. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ write: (l) => lines.push(l), debug: true }), { lines });
}
