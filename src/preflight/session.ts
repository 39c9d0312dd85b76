/**
 * Bootstrap's session and preflight: whether preflight asks the git host depends on state (only while its steps
 * have work), so the git host is checked once the session (run lock, state) is open; the rest of preflight needs
 * no state and runs meanwhile. Every problem is reported before any step. When the session cannot open (the
 * cluster holding state is unreachable, the credentials are wrong), preflight still runs, without asking the git
 * host, and when it finds problems those are what is reported.
 */
import { isPlatctlError } from '../errors.js';
import type { GitHost } from '../githost/types.js';
import type { Logger } from '../log.js';
import { type SessionOptions, StateSession } from '../runner/session.js';
import type { State } from '../state/types.js';
import { type PreflightOptions, preflightGitHost, preflightLocal } from './preflight.js';
import { preflightError } from './problems.js';

/** The git host as bootstrap passes it: the client, and whether state says its steps have work. */
export interface GitHostPlan {
  host: () => Promise<GitHost | undefined>;
  hasWork: (state: State) => boolean;
  log?: Pick<Logger, 'info'>;
}

/** Opens the session, runs preflight (PREFLIGHT_FAILED, exit 2, with every problem), then `fn`; closes the session. */
export async function withPreflightedSession<T>(
  session: SessionOptions,
  o: Omit<PreflightOptions, 'gitHost'> & { source: string; gitHost: GitHostPlan },
  fn: (session: StateSession) => Promise<T>,
): Promise<T> {
  const { source, gitHost, ...checks } = o;
  // Started now, awaited below: the files, keys, tools and credentials are checked while the session opens.
  const local = preflightLocal(checks);
  local.catch(() => undefined); // its failure is reported when awaited, not as an unhandled rejection
  const problems = async (probe: boolean) => {
    const host = await preflightGitHost({ ...checks, gitHost: { host: gitHost.host, probe, log: gitHost.log } });
    return [...(await local), ...host];
  };
  let opened: StateSession;
  try {
    opened = (await StateSession.open(session)).session;
  } catch (err) {
    if (isPlatctlError(err) && err.code === 'LOCK_HELD') throw err;
    const found = await problems(false);
    if (found.length > 0) throw preflightError(found, source);
    throw err;
  }
  try {
    const found = await problems(gitHost.hasWork(opened.state));
    if (found.length > 0) throw preflightError(found, source);
    await checks.memo?.save(); // only a clean preflight: a refused run leaves platctl's home as it found it
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
