/**
 * `platctl flux rotate-key <cluster>`: the ONLY path that replaces Flux's deploy key secret. It generates a
 * new key, prints its public half on stdout, and replaces Secret flux-system/flux-system (guarded by its
 * resourceVersion). With a terminal it first waits until the new key can read the fleet repo, so Flux never
 * holds a key the git host does not know yet; with --yes it replaces at once and says whether access works.
 * With `fleet.provider` gitea or github it adds the new key through the host's API, proves it, replaces the
 * Secret, then removes the old key: the host ends with exactly the new one.
 */
import type { Command } from 'commander';
import type { Exec } from '../clients/exec.js';
import type { KubeClient } from '../clients/kube.js';
import type { Prompter } from '../clients/prompt.js';
import type { ClusterConfig } from '../config/schema.js';
import { ExitCode, PlatctlError } from '../errors.js';
import { type ProveOptions, proveAccess, readStoredKey, secretObject, showPublicKey } from '../flux/deploy-key.js';
import { deployKeyTitle, generateDeployKey } from '../flux/keys.js';
import { resolveKnownHosts } from '../flux/known-hosts.js';
import { syncRefs } from '../flux/wait.js';
import { lsRemoteWithKey } from '../git/git.js';
import { removeDeployKey, rotatedTitle } from '../githost/fleet-repo.js';
import { gitHostPreflight } from '../githost/preflight.js';
import { gitHostSettings } from '../githost/provider.js';
import type { GitHost } from '../githost/types.js';
import type { Logger } from '../log.js';
import { withSession } from '../runner/session.js';
import { setupCommand } from './common.js';

/** What a rotation needs (the command builds it; tests may too). */
export interface RotateContext {
  cluster: ClusterConfig;
  kube: KubeClient;
  exec: Exec;
  log: Logger;
  prompt: Prompter;
  yes: boolean;
  /** Where the new public key line goes (stdout in the CLI). */
  print: (line: string) => void;
  /** The git host's API (`fleet.provider` gitea/github); undefined: a person adds the key. */
  gitHost?: GitHost;
}

/** The result of a rotation: the new key's public half and the fingerprint it replaced. */
export interface Rotation {
  publicKey: string;
  fingerprint: string;
  previousFingerprint: string;
  /** The new key could read the fleet repo when platctl last tried. */
  accessProven: boolean;
}

/** Generates a new deploy key and replaces the secret with it. */
export async function rotateDeployKey(ctx: RotateContext, prove: ProveOptions = {}): Promise<Rotation> {
  const { fleet, name } = ctx.cluster;
  const old = await readStoredKey(ctx.kube);
  if (!old) {
    throw new PlatctlError(
      'DEPLOY_KEY_MISSING',
      `no Secret flux-system/flux-system in cluster ${name}: nothing to rotate`,
      {
        hint: `run \`platctl bootstrap ${name}\`: its flux-secret step creates the first key`,
      },
    );
  }
  if (!(await ctx.prompt.confirm(`Replace deploy key ${old.fingerprint} of cluster ${name} with a new one?`))) {
    throw new PlatctlError('ABORTED', 'rotation aborted: the deploy key is unchanged');
  }
  const { knownHosts } = await resolveKnownHosts(ctx.exec, fleet);
  const key = generateDeployKey(fleet.keyType, deployKeyTitle(name));
  ctx.print(key.publicKey);
  const target = { cluster: name, url: fleet.url, branch: fleet.branch, key: { ...key, knownHosts } };
  let accessProven = false;
  const settings = gitHostSettings(ctx.cluster);
  const host = settings && ctx.gitHost;
  if (host && settings) {
    // Add, prove, and only then switch Flux over; the old key goes last, so Flux can always fetch.
    const title = rotatedTitle(deployKeyTitle(name));
    const added = await host.addDeployKey(settings.repo, { title, key: key.publicKey, readOnly: !fleet.readWriteKey });
    ctx.log.created(`deploy key "${title}" (${key.fingerprint}) on ${settings.repo.owner}/${settings.repo.name}`);
    try {
      await proveAccess({ ...ctx, progress: (m) => ctx.log.waiting(m) }, target, { ...prove, registered: true });
    } catch (err) {
      await host.deleteDeployKey(settings.repo, added.id);
      ctx.log.warning(`removed the new key again: the deploy key is unchanged (${old.fingerprint})`);
      throw err;
    }
    accessProven = true;
  } else if (ctx.prompt.interactive && !ctx.yes) {
    // Prove first: Flux keeps the old key until the new one works.
    await proveAccess({ ...ctx, progress: (m) => ctx.log.waiting(m) }, target, prove);
    accessProven = true;
  } else {
    showPublicKey(ctx.log, target);
  }
  const secret = secretObject(key, knownHosts, name);
  secret.metadata.resourceVersion = old.resourceVersion;
  await ctx.kube.replace(secret);
  ctx.log.success(`replaced the key in Secret flux-system/flux-system: ${old.fingerprint} → ${key.fingerprint}`);
  if (!accessProven) {
    const r = await lsRemoteWithKey(ctx.exec, fleet.url, fleet.branch, key.privateKey, knownHosts);
    accessProven = r.ok;
    if (!r.ok)
      ctx.log.warning(`the new key cannot read ${fleet.url} yet (${r.reason}): Flux cannot fetch until you add it`);
  }
  // Ask source-controller to fetch again now rather than at its next interval.
  const [gitRef] = syncRefs();
  if (gitRef && (await ctx.kube.get(gitRef))) {
    await ctx.kube.patch(gitRef, {
      metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': new Date().toISOString() } },
    });
  }
  if (host && settings) {
    const removed = await removeDeployKey(host, settings.repo, old.publicKey);
    const repo = `${settings.repo.owner}/${settings.repo.name}`;
    ctx.log.success(
      `removed the old deploy key ${old.fingerprint} from ${repo}${removed ? '' : ' (it was not there)'}`,
    );
  } else {
    ctx.log.info(`remove the old deploy key ${old.fingerprint} from ${fleet.url} once Flux is Ready again`);
  }
  return { publicKey: key.publicKey, fingerprint: key.fingerprint, previousFingerprint: old.fingerprint, accessProven };
}

/** The command: loads config, takes the run lock, rotates, prints the new public key on stdout. */
export default async function fluxRotateKey(
  cluster: string,
  _opts: { config: string; yes?: boolean },
  cmd: Command,
): Promise<number> {
  const setup = await setupCommand(cluster, cmd);
  return withSession(setup.session('flux rotate-key', true), async (session) => {
    const ctx = setup.context({ outputs: (id) => session.state.steps[id]?.outputs ?? {} });
    await gitHostPreflight(ctx.cluster, ctx.gitHost, ctx.log);
    await rotateDeployKey({
      cluster: ctx.cluster,
      kube: await ctx.kube(),
      exec: ctx.exec,
      log: ctx.log,
      prompt: ctx.prompt,
      yes: ctx.yes,
      print: (line) => process.stdout.write(`${line}\n`),
      gitHost: await ctx.gitHost(),
    });
    return ExitCode.ok;
  });
}
