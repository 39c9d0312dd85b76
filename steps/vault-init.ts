/**
 * Step `vault-init`: initialise Vault once, with every unseal/recovery share and the root token encrypted by
 * Vault itself to the holders' PGP keys. platctl keeps only the ciphertext (clusterDir/vault-init.json, 0600)
 * and records fingerprints plus the file's sha256 in state. See docs/steps/vault-init.md.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { whyNotRunning } from '../src/clients/pods.js';
import type { ClusterConfig } from '../src/config/schema.js';
import { PlatctlError } from '../src/errors.js';
import { parseDuration } from '../src/flux/wait.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { type VaultApi, vaultApi } from '../src/vault/api.js';
import {
  type InitPlan,
  type InitResult,
  initialiseVault,
  type LocalInit,
  loadInitKeys,
  lostInitError,
  planFromConfig,
  readLocalInit,
} from '../src/vault/init.js';
import { CLUSTER_INTENT, readIntentInCluster } from '../src/vault/intent-record.js';
import { serverNames, waitForServer } from '../src/vault/pods.js';
import { type PodForwarder, reachClusterVault } from '../src/vault/reach.js';
import { VAULT_RELEASE } from '../src/vault/values.js';
import { readVaultOutputs } from './vault.js';

/** The pod vault-init talks to: the first server (the chart names them <release>-<i>). */
const VAULT_POD = `${VAULT_RELEASE}-0`;

/** How the step is built: `platctl vault init` passes its flags; bootstrap uses the defaults. */
export interface VaultInitStepOptions {
  /** --vault-addr (else VAULT_ADDR, else a port-forward to vault-0, waited for within vault.timeout). */
  vaultAddr?: string;
  /** Overrides platform.yaml's shares/threshold/key files (the command's --pgp-key etc.). */
  plan?: InitPlan;
  /** Ask before initialising (the command without --yes). */
  confirm?: boolean;
  /** Test seam for the port-forward. */
  forwarder?: PodForwarder;
}

/** True when platctl reaches Vault through a port-forward to the pod (no --vault-addr, no VAULT_ADDR). */
const viaPod = (o: VaultInitStepOptions) => !o.vaultAddr && !process.env.VAULT_ADDR;

/** Which server a port-forward goes to: `pod` (default vault-0), or with `wait` the first that runs. */
interface Target {
  wait?: boolean;
  pod?: string;
}

/**
 * Runs `fn` with a client for the cluster's Vault, closing any port-forward afterwards. With `wait` (apply), a
 * port-forwarded Vault is waited for first, within vault.timeout and with progress: a server running, vault-0
 * first (else the error says why for each: its phase, an unbound claim, the scheduler's reason), then its API
 * answering.
 */
async function withVault<T>(
  ctx: StepContext,
  o: VaultInitStepOptions,
  fn: (api: VaultApi) => Promise<T>,
  t: Target = {},
): Promise<T> {
  const { namespace, replicas } = ctx.cluster.vault;
  const started = Date.now();
  const timeoutMs = parseDuration(ctx.cluster.vault.timeout);
  const progress = (m: string) => ctx.progress(m);
  let pod = t.pod ?? VAULT_POD;
  if (t.wait && viaPod(o)) pod = await waitForServer(await ctx.kube(), replicas, { namespace, timeoutMs, progress });
  const endpoint = await reachClusterVault({
    cluster: ctx.cluster,
    vaultAddr: o.vaultAddr,
    pod,
    kube: () => ctx.kube(),
    forwarder: o.forwarder,
  });
  ctx.log.debug(`reaching Vault at ${endpoint.addr} (${endpoint.description})`);
  const label = endpoint.via === 'port-forward' ? `${namespace}/${pod} (port-forward)` : undefined;
  try {
    const api = vaultApi(endpoint.addr, { ca: endpoint.ca, servername: endpoint.servername, label });
    if (t.wait && endpoint.via === 'port-forward') await untilAnswers(api, { deadline: started + timeoutMs, progress });
    return await fn(api);
  } finally {
    await endpoint.close();
  }
}

/** Polls sys/init until Vault answers (a server that just started may not listen yet); the last error at the deadline. */
async function untilAnswers(api: VaultApi, o: { deadline: number; progress: (m: string) => void }): Promise<void> {
  for (;;) {
    try {
      await api.initStatus();
      return;
    } catch (err) {
      if (Date.now() >= o.deadline) throw err;
      o.progress(`waiting for Vault at ${api.addr} to answer`);
      await sleep(1000);
    }
  }
}

function planOf(cluster: ClusterConfig, o: VaultInitStepOptions): InitPlan {
  return o.plan ?? planFromConfig(cluster.vault);
}

/** The vault-init step's outputs: key fingerprints, the encrypted output's sha256, and that Vault is initialised. */
export const readVaultInitOutputs = outputReader('vault-init', {
  fingerprints: 'strings',
  outputSha256: 'string',
  initialized: 'boolean',
});

function outputsOf(r: { fingerprints: string[]; sha256: string }): StepOutputs {
  return readVaultInitOutputs.record({ fingerprints: r.fingerprints, outputSha256: r.sha256, initialized: true });
}

/** What a key holder does next; never any key material. */
function nextSteps(ctx: StepContext, r: InitResult, plan: InitPlan): void {
  const name = ctx.cluster.name;
  ctx.log.success(`Vault initialised (${r.sealType} seal): ${plan.shares} shares, threshold ${plan.threshold}`);
  ctx.log.info(`encrypted init output: ${r.file} (0600, sha256 ${r.sha256.slice(0, 16)}…); copy it somewhere safe`);
  for (const [i, fp] of r.fingerprints.entries()) ctx.log.info(`  share ${i + 1} encrypted to ${fp}`);
  ctx.log.info(`  root token encrypted to ${r.rootTokenFingerprint}`);
  const field = r.sealType === 'shamir' ? 'keys_base64' : 'recovery_keys_base64';
  ctx.log.info(`each holder decrypts their share: jq -r '.${field}[<share-1>]' vault-init.json | base64 -d | gpg -d`);
  if (r.sealType === 'shamir') ctx.log.info(`then unseal with ${plan.threshold} shares: platctl vault unseal ${name}`);
  else ctx.log.info('Vault unseals itself with KMS; the recovery shares are for generate-root and rekey only');
  ctx.log.info('the root token holder decrypts .root_token the same way; revoke it once initial setup is done');
}

/** The loud error for an init another machine started and lost: its intent copy is in the cluster. */
async function lostElsewhere(ctx: StepContext, local: LocalInit, addr: string): Promise<PlatctlError | undefined> {
  const remote = await readIntentInCluster(await ctx.kube());
  return remote ? lostInitError({ ...local, intent: remote }, addr, CLUSTER_INTENT) : undefined;
}

/** Builds the step (options come from `platctl vault init`; bootstrap uses {@link vaultInitStep}). */
export function createVaultInitStep(o: VaultInitStepOptions = {}): Step {
  return {
    id: 'vault-init',
    title: 'Initialise Vault (PGP-encrypted shares)',

    inputs(ctx) {
      const p = planOf(ctx.cluster, o);
      return {
        shares: p.shares,
        threshold: p.threshold,
        pgpKeys: p.pgpKeyFiles,
        rootTokenPgpKey: p.rootTokenPgpKeyFile,
      };
    },

    async check(ctx): Promise<CheckResult> {
      const local = await readLocalInit(ctx.cluster.name);
      const installed = readVaultOutputs(ctx).release !== undefined;
      const p = planOf(ctx.cluster, o);
      const change = `+ vault init: ${p.shares} PGP-encrypted shares, threshold ${p.threshold}`;
      const { namespace, replicas } = ctx.cluster.vault;
      /** The check against one server; `undefined` when the server cannot be reached through its pod. */
      const checkAt = (pod?: string) =>
        withVault(
          ctx,
          o,
          async (api): Promise<CheckResult | undefined> => {
            const status = await api.initStatus().catch((err: unknown) => {
              // A first dry run: the vault step has not installed Vault yet, so there is nothing to reach.
              if (!installed) return `Vault is not reachable yet (the vault step has not run): ${api.addr}`;
              if (viaPod(o)) return undefined;
              throw err;
            });
            if (status === undefined) return undefined;
            if (typeof status === 'string') return { status: 'absent', detail: status, changes: [change] };
            if (!status.initialized) {
              const old = local.output ? `; the older ${local.files.output} will be kept aside` : '';
              return { status: 'absent', detail: `Vault at ${api.addr} is not initialised${old}`, changes: [change] };
            }
            if (local.output) {
              return {
                status: 'up-to-date',
                detail: `Vault initialised; platctl holds the encrypted init output ${local.files.output}`,
                outputs: outputsOf({ fingerprints: local.output.fingerprints, sha256: local.output.sha256 }),
              };
            }
            // Initialised, no output, an init was in flight (here or on another machine): the answer was lost.
            // Stop, loudly, every run.
            if (local.intent) throw lostInitError(local, api.addr);
            const elsewhere = await lostElsewhere(ctx, local, api.addr);
            if (elsewhere) throw elsewhere;
            return {
              status: 'up-to-date',
              detail: `Vault initialised outside platctl: this tool holds no init output (${local.files.output} absent)`,
              outputs: readVaultInitOutputs.record({ initialized: true }),
            };
          },
          { pod },
        );
      const first = await checkAt();
      if (first) return first;
      // vault-0 cannot be reached: another server that runs will do (the chart starts them in parallel).
      const kube = await ctx.kube();
      const why = await Promise.all(serverNames(replicas).map((n) => whyNotRunning(kube, namespace, n)));
      const running = serverNames(replicas).filter((_, i) => why[i] === undefined && i > 0);
      const other = running[0] ? await checkAt(running[0]) : undefined;
      if (other) return other;
      const reasons = why.filter((w): w is string => w !== undefined).map((w) => `${namespace}/${w}`);
      if (reasons.length === 0)
        throw new PlatctlError(
          'VAULT_UNREACHABLE',
          `Vault runs in ${namespace} but does not answer through a port-forward`,
        );
      // Installed, and no server runs (yet): apply waits for one.
      return { status: 'absent', detail: `Vault does not run yet: ${reasons.join('; ')}`, changes: [change] };
    },

    async apply(ctx) {
      // Every key file is validated before Vault is contacted: bad input never half-initialises anything.
      const keys = await loadInitKeys(planOf(ctx.cluster, o));
      return withVault(
        ctx,
        o,
        async (api) => {
          const local = await readLocalInit(ctx.cluster.name);
          if ((await api.initStatus()).initialized) {
            if (local.output)
              return outputsOf({ fingerprints: local.output.fingerprints, sha256: local.output.sha256 });
            if (local.intent) throw lostInitError(local, api.addr);
            const elsewhere = await lostElsewhere(ctx, local, api.addr);
            if (elsewhere) throw elsewhere;
            throw new PlatctlError(
              'VAULT_INIT_ELSEWHERE',
              `Vault at ${api.addr} was initialised by someone else meanwhile`,
              {
                hint: 'whoever ran it holds the init output; platctl never initialises twice',
              },
            );
          }
          const seal = await api.sealStatus();
          const fps = keys.shareKeys.map((k) => k.fingerprint).join(', ');
          if (
            o.confirm &&
            !(await ctx.prompt.confirm(`Initialise Vault at ${api.addr} (${seal.type} seal) for ${fps}?`))
          ) {
            throw new PlatctlError('ABORTED', 'vault init aborted: nothing was changed');
          }
          ctx.progress(`initialising Vault at ${api.addr} (${seal.type} seal)`);
          const result = await initialiseVault({
            api,
            cluster: ctx.cluster.name,
            keys,
            sealType: seal.type,
            log: ctx.log,
            kube: await ctx.kube(),
          });
          nextSteps(ctx, result, keys.plan);
          return outputsOf(result);
        },
        { wait: true },
      );
    },

    async destroy(ctx) {
      // Vault's data goes with the vault step's storage; the ciphertext stays with its owners on purpose.
      const local = await readLocalInit(ctx.cluster.name);
      if (local.output) ctx.log.info(`kept ${local.files.output}; delete it once that Vault's data is gone for good`);
    },
  };
}

/** The `vault-init` step of `platctl bootstrap`. */
export const vaultInitStep: Step = createVaultInitStep();
