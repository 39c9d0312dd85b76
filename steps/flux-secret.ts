/**
 * Step `flux-secret`: the deploy key Flux reads the fleet repo with. Generated in process (ed25519 by
 * default), stored with the scanned known_hosts in Secret flux-system/flux-system, and proven with
 * `git ls-remote` before the step is done. An existing secret is NEVER overwritten: rotation is the explicit
 * `platctl flux rotate-key <cluster>`. The private key goes to the API server only (never stdout, logs, state).
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
import { crashPoint } from '../src/runner/crash.js';
import { outputReader } from '../src/state/outputs.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';

/** The flux-secret step's outputs: the deploy key's public half and fingerprint (never the private key). */
export const readFluxSecretOutputs = outputReader('flux-secret', { publicKey: 'string', fingerprint: 'string' });

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
    }),

    async check(ctx): Promise<CheckResult> {
      const kube = await ctx.kube();
      const secret = await kube.get(SECRET_REF);
      if (!secret) {
        return {
          status: 'absent',
          detail: `create ${where} with a new ${ctx.cluster.fleet.keyType} deploy key for ${ctx.cluster.fleet.url}`,
          changes: [`+ ${where} (identity, identity.pub, known_hosts)`],
        };
      }
      const stored = parseSecret(secret);
      const outputs = readFluxSecretOutputs.record({ publicKey: stored.publicKey, fingerprint: stored.fingerprint });
      const type = keyTypeOf(stored.publicKey);
      const note =
        type === ctx.cluster.fleet.keyType
          ? ''
          : ` (${type} key, fleet.keyType is ${ctx.cluster.fleet.keyType}: \`platctl flux rotate-key\` replaces it)`;
      if (ctx.deep) {
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
      const kube = await ctx.kube();
      const existing = await readStoredKey(kube);
      if (existing) ctx.log.info(`${where} exists (deploy key ${existing.fingerprint}): keeping it`);
      const key = existing ?? (await createKey(ctx));
      await proveAccess(
        ctx,
        { cluster: ctx.cluster.name, url: ctx.cluster.fleet.url, branch: ctx.cluster.fleet.branch, key },
        prove,
      );
      return readFluxSecretOutputs.record({ publicKey: key.publicKey, fingerprint: key.fingerprint });
    },

    async destroy(ctx) {
      const gone = !(await (await ctx.kube()).delete(SECRET_REF));
      if (gone) ctx.log.info(`${where} already gone`);
      else
        ctx.log.success(`deleted ${where}; remove deploy key "${deployKeyTitle(ctx.cluster.name)}" from the git host`);
    },
  };
}

/** The `flux-secret` step. */
export const fluxSecretStep: Step = createFluxSecretStep();
