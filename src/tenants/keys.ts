/**
 * A tenant's own read-only git credentials, in its own namespace. Under the multi-tenant lockdown a tenant's
 * GitRepository cannot use flux-system's deploy key (no cross-namespace references, and that key reads only the
 * fleet repo), so, as `flux create tenant` plus `flux create source git --secret-ref` set it up:
 * - an ssh repository gets a deploy key made by platctl: Secret `<first namespace>/<tenant>-deploy-key`
 *   (`identity`, `identity.pub`, `known_hosts`, the shape source-controller reads), created once and never
 *   overwritten; its public key is printed for the tenant's repository admin to add as a READ-ONLY deploy key;
 * - `secretRef` (flag `--secret-ref`) names a Secret the team provides instead (an https token, their own key);
 * - a plain https repository needs nothing (public).
 * The private key goes to the API server only: never to the fleet repo, state, stdout or logs.
 */
import { concurrencyFromEnv, mapLimit } from '../aws/parallel.js';
import { isConflict, type KubeClient, type KubeObject } from '../clients/kube.js';
import { createNamespace } from '../clients/namespaces.js';
import { isPlatctlError } from '../errors.js';
import { fingerprintOf, generateDeployKey } from '../flux/keys.js';
import { resolveKnownHosts } from '../flux/known-hosts.js';
import { knownHostsPattern, parseSshUrl } from '../git/git.js';
import type { StepContext } from '../step.js';
import { deployKeySecretName, type TenantSpec, tenantLabels } from './manifests.js';

/** Label of every tenant deploy key Secret platctl made (value: the tenant). */
export const DEPLOY_KEY_LABEL = 'platctl.io/deploy-key';

/** The deploy key comment and the title we suggest on the git host: unique per cluster and tenant. */
export function tenantKeyTitle(cluster: string, tenant: string): string {
  return `platctl-${cluster}-tenant-${tenant}`;
}

/** A tenant's deploy key as add-tenant reports it (public half only). */
export interface TenantKey {
  tenant: string;
  /** `<namespace>/<secret>`. */
  secret: string;
  repo: string;
  publicKey?: string;
  fingerprint?: string;
  /** Made by this run (or, in a dry run, would be). */
  created: boolean;
}

type SecretObject = KubeObject & { data?: Record<string, string> };

/**
 * The tenant's first namespace, made when missing. `listed` is the batch's list of namespaces: one listed (and
 * not terminating) needs no request, one absent is created at once; without a list, or when the create
 * conflicts (made meanwhile, or an old one of that name still terminating), {@link createNamespace} looks
 * first and waits out a terminating one.
 */
async function ensureNamespace(
  kube: KubeClient,
  ns: KubeObject,
  listed: readonly KubeObject[] | undefined,
): Promise<void> {
  const name = ns.metadata.name;
  const meta = { labels: ns.metadata.labels };
  const found = listed?.find((n) => n.metadata.name === name);
  if (found && !found.metadata.deletionTimestamp) return;
  if (listed && !found) {
    try {
      await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...meta } });
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  await createNamespace(kube, name, meta);
}

/**
 * Makes sure every tenant with an ssh repository and no `secretRef` has its deploy key Secret, creating the
 * tenant's first namespace when it does not exist yet (Flux later applies it from the fleet repo unchanged).
 * One list finds the keys that exist, so a re-run makes no write; `o.namespaces` (the namespaces the caller
 * just listed) spares a read per new tenant.
 */
export async function ensureTenantKeys(
  ctx: StepContext,
  specs: readonly TenantSpec[],
  namespaceOf: (spec: TenantSpec) => KubeObject,
  o: { namespaces?: readonly KubeObject[] } = {},
): Promise<TenantKey[]> {
  const wanted = specs.filter((s) => !s.secretRef && s.repo.startsWith('ssh://'));
  if (wanted.length === 0) return [];
  const kube = await ctx.kube();
  const existing = await kube.list<SecretObject>('v1', 'Secret', { labelSelector: DEPLOY_KEY_LABEL });
  const scans = new Map<string, Promise<string>>();
  const knownHosts = (repo: string) => {
    const key = knownHostsPattern(parseSshUrl(repo));
    if (!scans.has(key))
      scans.set(
        key,
        resolveKnownHosts(ctx.exec, { url: repo }).then((r) => r.knownHosts),
      );
    return scans.get(key) as Promise<string>;
  };
  const one = async (s: TenantSpec): Promise<TenantKey> => {
    const namespace = s.namespaces[0] ?? s.name;
    const name = deployKeySecretName(s.name);
    const base = { tenant: s.name, secret: `${namespace}/${name}`, repo: s.repo };
    const found = existing.find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
    const pub = found?.data?.['identity.pub'];
    if (found) {
      const publicKey = pub ? Buffer.from(pub, 'base64').toString('utf8').trim() : undefined;
      return { ...base, publicKey, fingerprint: publicKey && fingerprintOf(publicKey), created: false };
    }
    if (ctx.dryRun) return { ...base, created: true };
    const hosts = await knownHosts(s.repo);
    const key = generateDeployKey(ctx.cluster.fleet.keyType, tenantKeyTitle(ctx.cluster.name, s.name));
    await ensureNamespace(kube, namespaceOf(s), o.namespaces);
    try {
      await kube.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace,
          labels: { ...tenantLabels(s.name), [DEPLOY_KEY_LABEL]: s.name },
          annotations: { 'platctl.io/fingerprint': key.fingerprint, 'platctl.io/repo': s.repo },
        },
        type: 'Opaque',
        stringData: { identity: key.privateKey, 'identity.pub': `${key.publicKey}\n`, known_hosts: hosts },
      });
    } catch (err) {
      // Made meanwhile (another run): keep theirs, never overwrite a key.
      if (isPlatctlError(err) && err.code === 'KUBE_CONFLICT') return { ...base, created: false };
      throw err;
    }
    return { ...base, publicKey: key.publicKey, fingerprint: key.fingerprint, created: true };
  };
  return mapLimit(wanted, concurrencyFromEnv('PLATCTL_KUBE_CONCURRENCY', 16), one);
}

/** Tells the operator what to do with each new key (public halves only). */
export function showNewKeys(log: StepContext['log'], cluster: string, keys: readonly TenantKey[], dryRun: boolean) {
  for (const k of keys.filter((x) => x.created)) {
    if (dryRun) {
      log.info(`would create Secret ${k.secret}: a read-only deploy key for ${k.repo}`);
      continue;
    }
    log.created(`Secret ${k.secret}: deploy key ${k.fingerprint} for ${k.repo}`);
    log.action(
      `add this public key to ${k.repo} as a READ-ONLY deploy key titled "${tenantKeyTitle(cluster, k.tenant)}"`,
    );
    if (k.publicKey) log.info(k.publicKey);
  }
}
