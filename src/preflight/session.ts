/**
 * Bootstrap's session and preflight, in that order: whether preflight asks the git host depends on state (only
 * while its steps have work), so the session (run lock, state) opens first and preflight runs before any step.
 * When the session cannot open (the cluster holding state is unreachable, the credentials are wrong), preflight
 * still runs, without asking the git host, and when it finds problems those are what is reported.
 */
import { isPlatctlError } from '../errors.js';
import type { GitHost } from '../githost/types.js';
import type { Logger } from '../log.js';
import { type SessionOptions, StateSession } from '../runner/session.js';
import type { State } from '../state/types.js';
import { assertPreflight, type PreflightOptions, preflight } from './preflight.js';
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
  let opened: StateSession;
  try {
    opened = (await StateSession.open(session)).session;
  } catch (err) {
    if (isPlatctlError(err) && err.code === 'LOCK_HELD') throw err;
    const problems = await preflight({ ...checks, gitHost: { host: gitHost.host, probe: false } });
    if (problems.length > 0) throw preflightError(problems, source);
    throw err;
  }
  try {
    const probe = gitHost.hasWork(opened.state);
    await assertPreflight({ ...checks, gitHost: { host: gitHost.host, probe, log: gitHost.log } }, source);
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
