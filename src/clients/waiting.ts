/**
 * Calls to the outside that wait say so: after a while, a progress line ("waiting for sts.us-east-1… 20 s"),
 * repeated while the wait goes on. Where the line goes is set once per run: the runner points it at the
 * current step's progress, commands outside the runner at their logger; the default is a ◎ line on stderr. Work
 * started ahead of its turn (the runner's read-ahead) keeps its own reporter (`withWaitReporter`), so its lines are
 * not shown under whichever step is current.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { PlatctlError } from '../errors.js';
import { seconds } from './timeouts.js';

/** Receives one progress line. */
export type WaitReporter = (message: string) => void;

const stderrReporter: WaitReporter = (m) => {
  process.stderr.write(`◎ ${m}\n`);
};
let reporter: WaitReporter = stderrReporter;
let noticeEveryMs = 10_000;
/** A reporter for one piece of work and everything it awaits, over the run-wide one. */
const scoped = new AsyncLocalStorage<WaitReporter>();

/** Sends wait lines to `r` (undefined: back to stderr); returns the previous reporter. */
export function setWaitReporter(r: WaitReporter | undefined): WaitReporter {
  const previous = reporter;
  reporter = r ?? stderrReporter;
  return previous;
}

/** Runs `fn` with the waits it starts (and their later lines) reported to `r`, whatever the run-wide reporter. */
export function withWaitReporter<T>(r: WaitReporter, fn: () => T): T {
  return scoped.run(r, fn);
}

/** How long a call may wait before its first progress line (and between lines). */
export function setNoticeInterval(ms: number): void {
  noticeEveryMs = Math.max(1, ms);
}

/** Starts reporting "waiting for <label>… N s" every notice interval; call the result when the wait is over. */
export function noticeWhile(label: string, everyMs = noticeEveryMs): () => void {
  const started = Date.now();
  const own = scoped.getStore();
  const timer = setInterval(() => (own ?? reporter)(`waiting for ${label}… ${seconds(Date.now() - started)}`), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** What to say when a bound expires. */
export interface Expiry {
  /** The endpoint, named the way a person would look it up: "sts.us-east-1 (https://sts.us-east-1.amazonaws.com)". */
  endpoint: string;
  /** What was being done: "STS GetCallerIdentity". */
  what: string;
  /** What to check. */
  hint: string;
}

/** The TIMEOUT error for an expired bound. */
export function timeoutError(e: Expiry, afterMs: number, cause?: unknown): PlatctlError {
  return new PlatctlError('TIMEOUT', `${e.what}: no answer from ${e.endpoint} within ${seconds(afterMs)}`, {
    hint: `${e.hint}; nothing is left half-done: run the command again once it answers`,
    cause,
  });
}

/**
 * Runs `work` with progress lines while it waits and a hard bound: after `limitMs` it rejects with TIMEOUT
 * naming the endpoint, and `work`'s signal is aborted so it can stop (a fetch, a child process).
 */
export async function bounded<T>(
  label: string,
  limitMs: number,
  expiry: Expiry,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const stop = noticeWhile(label);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(timeoutError(expiry, limitMs));
    }, limitMs);
    timer.unref();
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
    stop();
  }
}
