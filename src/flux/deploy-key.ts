/**
 * The deploy key as it lives in the cluster (Secret flux-system/flux-system with `identity`, `identity.pub`
 * and `known_hosts`, the shape source-controller reads), and the proof that it can read the fleet repo:
 * `git ls-remote` with the key, retried until the user has added it or gives up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient, KubeObject, ObjectRef } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';
import { lsRemoteWithKey } from '../git/git.js';
import type { StepContext } from '../step.js';
import { type DeployKey, deployKeyTitle, fingerprintOf, registerPrivateKey } from './keys.js';

/** Where Flux's git credentials live in every cluster (each cluster is its own API server). */
export const SECRET_REF: ObjectRef = {
  apiVersion: 'v1',
  kind: 'Secret',
  namespace: 'flux-system',
  name: 'flux-system',
};

/** The deploy key read back from the cluster. `privateKey` is registered with the masker. */
export interface StoredKey {
  privateKey: string;
  publicKey: string;
  knownHosts: string;
  fingerprint: string;
  resourceVersion?: string;
}

type SecretObject = KubeObject & { data?: Record<string, string> };

/** The Secret object for a key (stringData: the API server encodes it). */
export function secretObject(key: DeployKey, knownHosts: string, cluster: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: SECRET_REF.name,
      namespace: SECRET_REF.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'platctl', 'platctl.io/cluster': cluster },
      annotations: { 'platctl.io/fingerprint': key.fingerprint, 'platctl.io/key-title': deployKeyTitle(cluster) },
    },
    type: 'Opaque',
    stringData: { identity: key.privateKey, 'identity.pub': `${key.publicKey}\n`, known_hosts: knownHosts },
  };
}

/** Decodes the Secret; fails (naming what is missing) when it is not a usable deploy key secret. */
export function parseSecret(secret: SecretObject): StoredKey {
  const get = (k: string) => {
    const v = secret.data?.[k];
    return v ? Buffer.from(v, 'base64').toString('utf8') : undefined;
  };
  const privateKey = get('identity');
  registerPrivateKey(privateKey);
  const publicKey = get('identity.pub')?.trim();
  const knownHosts = get('known_hosts');
  const missing = [!privateKey && 'identity', !publicKey && 'identity.pub', !knownHosts && 'known_hosts'].filter(
    Boolean,
  );
  if (!privateKey || !publicKey || !knownHosts) {
    throw new PlatctlError(
      'DEPLOY_KEY_INVALID',
      `Secret flux-system/flux-system exists but lacks ${missing.join(', ')}`,
      {
        hint: 'platctl never overwrites this secret; replace it with `platctl flux rotate-key <cluster>`',
      },
    );
  }
  return {
    privateKey,
    publicKey,
    knownHosts,
    fingerprint: fingerprintOf(publicKey),
    resourceVersion: secret.metadata.resourceVersion,
  };
}

/** Reads the deploy key secret, or undefined when there is none. */
export async function readStoredKey(kube: KubeClient): Promise<StoredKey | undefined> {
  const secret = await kube.get<SecretObject>(SECRET_REF);
  return secret ? parseSecret(secret) : undefined;
}

/** How long to keep trying without a person to ask. */
export interface ProveOptions {
  /** Attempts without a terminal (or with --yes); default 60. */
  attempts?: number;
  /** Pause between attempts; default 5 s. */
  intervalMs?: number;
  /** platctl registered the key through the host's API: no one to ask, only a short wait for the host. */
  registered?: boolean;
}

/** What a proof needs: the repo and the key. */
export interface ProveTarget {
  cluster: string;
  url: string;
  branch: string;
  key: Pick<StoredKey, 'privateKey' | 'publicKey' | 'knownHosts' | 'fingerprint'>;
}

/** Tells the user what to do with the public key (never the private one). */
export function showPublicKey(log: StepContext['log'], t: ProveTarget): void {
  log.action(`add this public key to ${t.url} as a READ-ONLY deploy key titled "${deployKeyTitle(t.cluster)}"`);
  log.info(t.key.publicKey);
  log.info(`fingerprint ${t.key.fingerprint}; leave "allow write access" off: Flux only reads the fleet repo`);
}

/**
 * Proves the key can read the repo. Without a terminal (or with --yes) it retries a bounded number of times
 * with progress, then fails naming the repo and the fingerprint; with a terminal it asks the user after each
 * round until it works or they answer no.
 */
export async function proveAccess(
  ctx: Pick<StepContext, 'exec' | 'log' | 'progress' | 'prompt' | 'yes'>,
  t: ProveTarget,
  o: ProveOptions = {},
): Promise<void> {
  const attempt = () => lsRemoteWithKey(ctx.exec, t.url, t.branch, t.key.privateKey, t.key.knownHosts);
  let result = await attempt();
  if (result.ok) {
    ctx.log.success(`deploy key ${t.key.fingerprint} can read ${t.url}`);
    return;
  }
  if (o.registered) return proveRegistered(ctx, t, o, attempt, result.reason);
  showPublicKey(ctx.log, t);
  const interval = o.intervalMs ?? 5000;
  const ask = ctx.prompt.interactive && !ctx.yes;
  const rounds = ask ? Number.POSITIVE_INFINITY : 1;
  const perRound = ask ? 3 : (o.attempts ?? 60);
  for (let round = 0; round < rounds; round++) {
    if (ask && !(await ctx.prompt.confirm(`Added the deploy key to ${t.url}? (no aborts)`, { default: true }))) {
      throw new PlatctlError('ABORTED', `stopped waiting for deploy key ${t.key.fingerprint} on ${t.url}`);
    }
    for (let i = ask ? 1 : 2; i <= perRound; i++) {
      ctx.progress(
        `waiting for deploy key ${t.key.fingerprint} on ${t.url} (attempt ${i}/${perRound}): ${result.ok ? '' : result.reason}`,
      );
      if (!ask || i > 1) await sleep(interval);
      result = await attempt();
      if (result.ok) {
        ctx.log.success(`deploy key ${t.key.fingerprint} can read ${t.url}`);
        return;
      }
    }
    if (ask) ctx.log.warning(`deploy key ${t.key.fingerprint} still cannot read ${t.url}: ${result.reason}`);
  }
  throw new PlatctlError(
    'DEPLOY_KEY_DENIED',
    `deploy key ${t.key.fingerprint} cannot read ${t.url}: ${result.ok ? '' : result.reason}`,
    {
      hint: `add the public key above to ${t.url} as a read-only deploy key titled "${deployKeyTitle(t.cluster)}", then run bootstrap again (the key is kept)`,
    },
  );
}

/** After registering the key itself: a few quick attempts (a host may take a moment), then the host's reason. */
async function proveRegistered(
  ctx: Pick<StepContext, 'log' | 'progress'>,
  t: ProveTarget,
  o: ProveOptions,
  attempt: () => ReturnType<typeof lsRemoteWithKey>,
  firstReason: string,
): Promise<void> {
  const attempts = Math.min(o.attempts ?? 10, 10);
  let reason = firstReason;
  for (let i = 2; i <= attempts; i++) {
    ctx.progress(
      `waiting for the git host to accept deploy key ${t.key.fingerprint} (attempt ${i}/${attempts}): ${reason}`,
    );
    await sleep(Math.min(o.intervalMs ?? 1000, 1000));
    const r = await attempt();
    if (r.ok) {
      ctx.log.success(`deploy key ${t.key.fingerprint} can read ${t.url}`);
      return;
    }
    reason = r.reason;
  }
  throw new PlatctlError(
    'DEPLOY_KEY_DENIED',
    `deploy key ${t.key.fingerprint} is registered but cannot read ${t.url}: ${reason}`,
    {
      hint: 'check that fleet.url is the repository fleet.apiUrl manages (same host, owner and name)',
    },
  );
}
