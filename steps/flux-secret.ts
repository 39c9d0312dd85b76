/**
 * Step `flux-secret`: the deploy key Flux reads the fleet repo with. Generated in process (ed25519 by
 * default), stored with the scanned known_hosts in Secret flux-system/flux-system, and proven with
 * `git ls-remote` before the step is done. An existing secret is NEVER overwritten: rotation is the explicit
 * `platctl flux rotate-key <cluster>`. The private key goes to the API server only (never stdout, logs, state).
 * With `fleet.provider` gitea or github, platctl creates a missing fleet repository and registers the key
 * (read-only) through the host's API (src/githost/fleet-repo.ts) instead of asking a person to.
 */

import { isConflict } from '../src/clients/kube.js';
import { createNamespace, waitFor } from '../src/clients/namespaces.js';
import {
  type ProveOptions,
  parseSecret,
  proveAccess,
  readStoredKey,
  SECRET_REF,
  type StoredKey,
  secretObject,
} from '../src/flux/deploy-key.js';
import { deployKeyTitle, generateDeployKey } from '../src/flux/keys.js';
import { resolveKnownHosts } from '../src/flux/known-hosts.js';
import { lsRemoteWithKey } from '../src/git/git.js';
import { ensureDeployKey, ensureRepo, inspectKeys, keyProblems, removeDeployKey } from '../src/githost/fleet-repo.js';
import { gitHostSettings } from '../src/githost/provider.js';
import { outputReader } from '../src/state/outputs.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { crashPoint } from '../src/test-seams.js';

/** The flux-secret step's outputs: the deploy key's public half and fingerprint (never the private key). */
export const readFluxSecretOutputs = outputReader('flux-secret', {
  publicKey: 'string',
  fingerprint: 'string',
  /** `fleet.provider` when the key was made or last checked (a change makes bootstrap probe the host again). */
  provider: 'string',
});

const where = 'Secret flux-system/flux-system';

const keyTypeOf = (publicKey: string) => (publicKey.startsWith('ecdsa-') ? 'ecdsa-p384' : 'ed25519');

/** Creates the namespace unless it exists (plain create: the flux step owns its labels). */
async function ensureNamespace(ctx: StepContext): Promise<void> {
  await createNamespace(await ctx.kube(), 'flux-system', {}, waitFor(ctx));
}

/** Generates a key and creates the Secret; if someone created it meanwhile, theirs wins (never overwritten). */
async function createKey(ctx: StepContext): Promise<StoredKey> {
  const { fleet, name } = ctx.cluster;
  const { knownHosts, source } = await resolveKnownHosts(ctx.exec, fleet);
  ctx.log.info(`known_hosts for ${fleet.url} from ${source}`);
  const key = generateDeployKey(fleet.keyType, deployKeyTitle(name));
  await ensureNamespace(ctx);
  const kube = await ctx.kube();
  try {
    await kube.create(secretObject(key, knownHosts, name));
  } catch (err) {
    if (!isConflict(err)) throw err;
    ctx.log.warning(`${where} appeared while platctl was creating it: keeping the existing one`);
    const existing = await readStoredKey(kube);
    if (existing) return existing;
    throw err;
  }
  ctx.log.created(`${where} with a new ${key.type} deploy key ${key.fingerprint}`);
  crashPoint('flux-secret', 'after-create-secret');
  return { ...key, knownHosts };
}

/** The git host's client and settings, or undefined for `fleet.provider: ssh`. */
async function hostOf(ctx: StepContext) {
  const settings = gitHostSettings(ctx.cluster);
  const host = settings && (await ctx.gitHost());
  return settings && host ? { settings, host } : undefined;
}

/** Deep check on the host: the repository exists and holds the key as wanted, and nothing else under its title. */
async function hostProblems(ctx: StepContext, publicKey: string): Promise<string[]> {
  const h = await hostOf(ctx);
  if (!h) return [];
  const { repo } = h.settings;
  if (!(await h.host.getRepo(repo))) return [`repository ${repo.owner}/${repo.name} does not exist`];
  const found = await inspectKeys(h.host, repo, publicKey, deployKeyTitle(ctx.cluster.name));
  return keyProblems(found, repo, deployKeyTitle(ctx.cluster.name), !ctx.cluster.fleet.readWriteKey);
}

/** What an absent key means on the host (the repository is created when missing). */
function hostChanges(ctx: StepContext): string[] {
  const s = gitHostSettings(ctx.cluster);
  if (!s) return [];
  const mode = ctx.cluster.fleet.readWriteKey ? 'read-write' : 'read-only';
  return [
    `+ ${mode} deploy key "${deployKeyTitle(ctx.cluster.name)}" on ${s.repo.owner}/${s.repo.name} (the repository too, if missing)`,
  ];
}

/** Builds the step; tests shorten the non-interactive wait. */
export function createFluxSecretStep(prove: ProveOptions = {}): Step {
  return {
    id: 'flux-secret',
    title: 'Flux deploy key',
    inputs: (ctx) => ({
      url: ctx.cluster.fleet.url,
      branch: ctx.cluster.fleet.branch,
      keyType: ctx.cluster.fleet.keyType,
      knownHosts: ctx.cluster.fleet.knownHosts ?? null,
      provider: ctx.cluster.fleet.provider,
      apiUrl: ctx.cluster.fleet.apiUrl ?? null,
      readWriteKey: ctx.cluster.fleet.readWriteKey,
    }),

    async check(ctx): Promise<CheckResult> {
      const kube = await ctx.kube();
      const secret = await kube.get(SECRET_REF);
      if (!secret) {
        return {
          status: 'absent',
          detail: `create ${where} with a new ${ctx.cluster.fleet.keyType} deploy key for ${ctx.cluster.fleet.url}`,
          changes: [`+ ${where} (identity, identity.pub, known_hosts)`, ...hostChanges(ctx)],
        };
      }
      const stored = parseSecret(secret);
      const outputs = readFluxSecretOutputs.record({
        publicKey: stored.publicKey,
        fingerprint: stored.fingerprint,
        provider: ctx.cluster.fleet.provider,
      });
      const type = keyTypeOf(stored.publicKey);
      const note =
        type === ctx.cluster.fleet.keyType
          ? ''
          : ` (${type} key, fleet.keyType is ${ctx.cluster.fleet.keyType}: \`platctl flux rotate-key\` replaces it)`;
      if (ctx.deep) {
        const problems = await hostProblems(ctx, stored.publicKey);
        if (problems.length > 0) {
          return {
            status: 'drift',
            detail: problems.join('; '),
            changes: problems.map((p) => `~ ${p}`),
            outputs,
          };
        }
        const { url, branch } = ctx.cluster.fleet;
        const access = await lsRemoteWithKey(ctx.exec, url, branch, stored.privateKey, stored.knownHosts);
        if (!access.ok) {
          return {
            status: 'drift',
            detail: `deploy key ${stored.fingerprint} cannot read ${url}: ${access.reason}`,
            changes: [`~ prove read access of deploy key ${stored.fingerprint} to ${url}`],
            outputs,
          };
        }
      }
      return {
        status: 'up-to-date',
        detail: `deploy key ${stored.fingerprint} in ${where} up to date${note}`,
        outputs,
      };
    },

    async apply(ctx) {
      const { fleet, name } = ctx.cluster;
      const h = await hostOf(ctx);
      // The repository first: a token that cannot make it fails before any key exists.
      if (h) await ensureRepo(h.host, h.settings, { branch: fleet.branch, log: ctx.log });
      const kube = await ctx.kube();
      const existing = await readStoredKey(kube);
      if (existing) ctx.log.info(`${where} exists (deploy key ${existing.fingerprint}): keeping it`);
      const key = existing ?? (await createKey(ctx));
      if (h) {
        const k = {
          publicKey: key.publicKey,
          title: deployKeyTitle(name),
          readOnly: !fleet.readWriteKey,
          cluster: name,
        };
        await ensureDeployKey(h.host, h.settings.repo, k, ctx.log);
      }
      const target = { cluster: name, url: fleet.url, branch: fleet.branch, key };
      await proveAccess(ctx, target, { ...prove, registered: Boolean(h) });
      return readFluxSecretOutputs.record({
        publicKey: key.publicKey,
        fingerprint: key.fingerprint,
        provider: fleet.provider,
      });
    },

    async destroy(ctx) {
      const kube = await ctx.kube();
      const h = await hostOf(ctx);
      if (h) {
        // Only the key this cluster holds (or held, per state): never another key of the same title.
        const pub = (await readStoredKey(kube))?.publicKey ?? readFluxSecretOutputs(ctx).publicKey ?? '';
        const { repo } = h.settings;
        const removed = pub && (await h.host.getRepo(repo)) ? await removeDeployKey(h.host, repo, pub) : 0;
        if (removed)
          ctx.log.success(`removed deploy key "${deployKeyTitle(ctx.cluster.name)}" from ${repo.owner}/${repo.name}`);
        else ctx.log.info(`no deploy key of this cluster on ${repo.owner}/${repo.name}`);
      }
      const gone = !(await kube.delete(SECRET_REF));
      if (gone) ctx.log.info(`${where} already gone`);
      else if (h) ctx.log.success(`deleted ${where}`);
      else
        ctx.log.success(`deleted ${where}; remove deploy key "${deployKeyTitle(ctx.cluster.name)}" from the git host`);
    },
  };
}

/** The `flux-secret` step. */
export const fluxSecretStep: Step = createFluxSecretStep();
