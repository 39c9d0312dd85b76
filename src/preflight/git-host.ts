/**
 * Preflight for the git host (`fleet.provider` gitea or github), part of bootstrap's one preflight: the token
 * variable must be set, and, when the git host's steps still have work, the host must accept the token and the
 * token's user must be an admin of the fleet repository (or the repository must not exist yet: platctl creates
 * it). Read-only. Whether to ask the host is the caller's decision (state says whether the steps have work), so
 * a finished cluster's re-run makes no host request.
 */
import type { ClusterConfig } from '../config/schema.js';
import { isPlatctlError } from '../errors.js';
import { preflightRepo } from '../githost/fleet-repo.js';
import { describePreflight, GIT_HOST_STEPS } from '../githost/preflight.js';
import { type GitHostSettings, gitHostSettings } from '../githost/provider.js';
import type { GitHost } from '../githost/types.js';
import type { Logger } from '../log.js';
import type { PreflightProblem } from './problems.js';

/** What the git host check needs from the run. */
export interface GitHostCheck {
  /** The run's client (reading the token: an unset one throws GITHOST_TOKEN naming the variable). */
  host: () => Promise<GitHost | undefined>;
  /** Ask the host (token accepted, admin rights): true while flux-secret/flux have work, or with --verify. */
  probe: boolean;
  /** Where the one "token is X's, an admin of …" line goes. */
  log?: Pick<Logger, 'info'>;
}

/**
 * The field a git host failure belongs to: the token variable when it is unset or refused, the fleet repository
 * when the token lacks a right there, fleet.apiUrl when the host does not answer.
 */
function fieldOf(code: string, s: GitHostSettings, at: (f: string) => string): string {
  if (code === 'GITHOST_TOKEN') return s.tokenVar;
  return at(code === 'GITHOST_PERMISSION' ? 'fleet.url' : 'fleet.apiUrl');
}

/** Every problem with the git host, for the steps that will run (none for `ssh` or without flux-secret/flux). */
export async function gitHostProblems(
  cluster: ClusterConfig,
  steps: readonly string[],
  at: (field: string) => string,
  check: GitHostCheck | undefined,
): Promise<PreflightProblem[]> {
  if (!check || !steps.some((id) => GIT_HOST_STEPS.includes(id))) return [];
  let s: GitHostSettings | undefined;
  try {
    s = gitHostSettings(cluster);
  } catch (err) {
    if (!isPlatctlError(err)) throw err;
    return [{ field: at('fleet'), message: err.message }];
  }
  if (!s) return [];
  const settings = s;
  const problem = (err: unknown): PreflightProblem[] => {
    if (!isPlatctlError(err)) throw err;
    const message = err.hint ? `${err.message} (${err.hint})` : err.message;
    return [{ field: fieldOf(err.code, settings, at), message }];
  };
  let host: GitHost | undefined;
  try {
    host = await check.host();
  } catch (err) {
    return problem(err);
  }
  if (!host || !check.probe) return [];
  try {
    const p = await preflightRepo(host, settings, Boolean(cluster.flux.webhook));
    check.log?.info(describePreflight(host, settings, p));
    return [];
  } catch (err) {
    return problem(err);
  }
}
