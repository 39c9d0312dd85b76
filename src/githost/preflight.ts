/**
 * The git host pre-flight's shared parts: which steps talk to the host, when a bootstrap must ask it anything
 * (only while those steps have work), and the check `flux rotate-key` runs before it starts. Bootstrap's check
 * is part of its one preflight (src/preflight/git-host.ts), reported with every other problem at once.
 */
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { State } from '../state/types.js';
import { type Preflight, preflightRepo } from './fleet-repo.js';
import { type GitHostSettings, gitHostSettings } from './provider.js';
import type { GitHost } from './types.js';

/** The steps that talk to the git host. */
export const GIT_HOST_STEPS: readonly string[] = ['flux-secret', 'flux'];

/**
 * True when a bootstrap of `steps` must ask the git host: one of its steps is selected and not done, the
 * provider changed since flux-secret ran (`recordedProvider`), or --verify. A finished cluster's re-run: false.
 */
export function gitHostHasWork(o: {
  steps: readonly string[];
  state: Pick<State, 'steps'>;
  provider: string;
  recordedProvider?: string;
  verify?: boolean;
}): boolean {
  const selected = o.steps.filter((id) => GIT_HOST_STEPS.includes(id));
  if (selected.length === 0) return false;
  const pending = selected.some((id) => o.state.steps[id]?.status !== 'done');
  return pending || o.recordedProvider !== o.provider || Boolean(o.verify);
}

/** The one line saying what the pre-flight found. */
export function describePreflight(host: GitHost, s: GitHostSettings, p: Preflight): string {
  const repo = `${s.repo.owner}/${s.repo.name}`;
  const where = p.exists ? `an admin of ${repo}` : `${repo} does not exist yet and will be created`;
  return `git host ${host.apiUrl}: ${s.tokenVar} is ${p.login}'s, ${where}`;
}

/** `flux rotate-key`'s check: the token is set, accepted and an admin of the repository; nothing for `ssh`. */
export async function gitHostPreflight(
  cluster: ClusterConfig,
  gitHost: () => Promise<GitHost | undefined>,
  log: Pick<Logger, 'info'>,
): Promise<void> {
  const s = gitHostSettings(cluster);
  if (!s) return;
  // Making the client reads the token: a missing one fails here, naming the variable.
  const host = await gitHost();
  if (!host) return;
  log.info(describePreflight(host, s, await preflightRepo(host, s, Boolean(cluster.flux.webhook))));
}
