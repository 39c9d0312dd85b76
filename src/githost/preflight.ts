/**
 * The git host pre-flight, run by the commands before the first step: with `fleet.provider` gitea or github
 * the token must be set (named), accepted, and an admin of the fleet repository when it exists. Read-only, so
 * a bad token stops the run before anything anywhere is made (exit 2).
 */
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { preflightRepo } from './fleet-repo.js';
import { gitHostSettings } from './provider.js';
import type { GitHost } from './types.js';

/** The steps that talk to the git host. */
export const GIT_HOST_STEPS: readonly string[] = ['flux-secret', 'flux'];

/** Checks the token (and, unless `probe` is false, its rights through the API); nothing for `ssh`. */
export async function gitHostPreflight(
  cluster: ClusterConfig,
  gitHost: () => Promise<GitHost | undefined>,
  log: Pick<Logger, 'info'>,
  o: { probe?: boolean } = {},
): Promise<void> {
  const s = gitHostSettings(cluster);
  if (!s) return;
  // Making the client reads the token: a missing one fails here, naming the variable.
  const host = await gitHost();
  if (!host || o.probe === false) return;
  const p = await preflightRepo(host, s, Boolean(cluster.flux.webhook));
  const repo = `${s.repo.owner}/${s.repo.name}`;
  log.info(
    `git host ${host.apiUrl}: ${s.tokenVar} is ${p.login}'s, ${p.exists ? `an admin of ${repo}` : `${repo} does not exist yet and will be created`}`,
  );
}
