/**
 * Step `vault`: the Vault Helm release (HA on Raft, awskms seal, IRSA), values from src/vault/values.ts.
 * It installs, then waits for the server pods to RUN (they are not Ready before init and unseal, so no
 * `helm --wait`): it fails when vault-0 cannot run, and names any other server that does not. It does not
 * initialise (step vault-init). See docs/steps/vault.md.
 */

import { waitFor } from '../src/clients/namespaces.js';
import { whyNotRunning } from '../src/clients/pods.js';
import { PlatctlError } from '../src/errors.js';
import { parseDuration } from '../src/flux/wait.js';
import { deleteNamespacesIfOurs, ensureNamespace } from '../src/istio/namespaces.js';
import { outputReader } from '../src/state/outputs.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { helmFor } from '../src/tools/helm.js';
import { chartSource, expectedChartVersion } from '../src/tools/helm-chart.js';
import { diffReleases, ensureRelease, type ReleaseSpec, valuesDiff } from '../src/tools/helm-ensure.js';
import { readDeployedRelease } from '../src/tools/helm-release.js';
import { partialWarning, serverNames, waitForServers } from '../src/vault/pods.js';
import {
  VAULT_RELEASE,
  VAULT_TLS_SECRET,
  type VaultValuesInput,
  vaultMeshed,
  vaultValues,
  vaultValuesSummary,
} from '../src/vault/values.js';
import { readIamOutputs } from './iam.js';
import { readKmsOutputs } from './kms.js';
import { readStorageOutputs } from './storage.js';

/** The vault step's outputs: the release and its namespace. */
export const readVaultOutputs = outputReader('vault', { release: 'string', namespace: 'string' });

/** Deployed values, when a release is installed: its volume class can no longer change. */
type Deployed = Record<string, unknown> | undefined;

/** The class an installed release's StatefulSet uses (null: none named). A volumeClaimTemplate is immutable. */
function installedClass(deployed: Deployed): string | null | undefined {
  if (!deployed) return undefined;
  const server = deployed.server as { dataStorage?: { storageClass?: unknown } } | undefined;
  const sc = server?.dataStorage?.storageClass;
  return typeof sc === 'string' && sc ? sc : null;
}

/**
 * The values' inputs: config plus the kms, iam and storage steps' outputs (any may not have run yet); with
 * `deployed`, the installed release's volume class.
 */
export function vaultValuesInput(ctx: Pick<StepContext, 'cluster' | 'outputs'>, deployed?: Deployed): VaultValuesInput {
  const installed = installedClass(deployed);
  return {
    cluster: ctx.cluster,
    kmsAlias: readKmsOutputs(ctx).vaultKeyAlias ?? ctx.cluster.vault.kmsAlias,
    roleArn: readIamOutputs(ctx).vaultRoleArn,
    storageClass: installed !== undefined ? installed : readStorageOutputs(ctx).storageClass,
  };
}

/** The release as config wants it (`deployed`: the installed release's values, which pin the volume class). */
export function vaultSpec(ctx: Pick<StepContext, 'cluster' | 'outputs'>, deployed?: Deployed): ReleaseSpec {
  const v = ctx.cluster.vault;
  return {
    release: VAULT_RELEASE,
    namespace: v.namespace,
    chart: chartSource(v.chart, 'vault', v.chartVersion),
    values: vaultValues(vaultValuesInput(ctx, deployed)),
  };
}

const outputs = (ctx: Pick<StepContext, 'cluster'>) =>
  readVaultOutputs.record({ release: VAULT_RELEASE, namespace: ctx.cluster.vault.namespace });

/** The TLS Secret, when Vault serves TLS itself and the Secret is missing: a change line. */
async function tlsSecretChange(ctx: StepContext): Promise<string | undefined> {
  if (vaultMeshed(ctx.cluster)) return undefined;
  const ns = ctx.cluster.vault.namespace;
  const kube = await ctx.kube();
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: VAULT_TLS_SECRET });
  return secret ? undefined : `! Secret ${ns}/${VAULT_TLS_SECRET} (tls.crt, tls.key, ca.crt) is missing`;
}

async function check(ctx: StepContext): Promise<CheckResult> {
  const name = `${ctx.cluster.vault.namespace}/${VAULT_RELEASE}`;
  if (!ctx.deep) {
    // One read: the deployed release's storage Secret carries its chart version and values.
    const r = await readDeployedRelease(await ctx.kube(), VAULT_RELEASE, ctx.cluster.vault.namespace);
    const spec = vaultSpec(ctx, r?.values);
    const summary = vaultValuesSummary(vaultValuesInput(ctx, r?.values));
    if (!r)
      return { status: 'absent', detail: `helm release ${name} is not deployed`, changes: [`+ ${name}`, ...summary] };
    const paths = valuesDiff(spec.values, r.values);
    const chart = expectedChartVersion(spec.chart);
    if (paths.length > 0 || r.chartVersion !== chart) {
      const why = paths.length > 0 ? `values differ at ${paths.join(', ')}` : `chart ${r.chartVersion} → ${chart}`;
      return { status: 'drift', detail: `${name}: ${why}`, changes: [`~ ${name}: ${why}`, ...summary] };
    }
    return { status: 'up-to-date', detail: `Vault ${name}: up to date`, outputs: outputs(ctx) };
  }
  const deployed = await helmFor(ctx).getValues(VAULT_RELEASE, ctx.cluster.vault.namespace);
  const spec = vaultSpec(ctx, deployed);
  const summary = vaultValuesSummary(vaultValuesInput(ctx, deployed));
  const [diff] = await diffReleases(helmFor(ctx), [spec]);
  const changes = [...(diff?.reasons ?? [])];
  const tls = await tlsSecretChange(ctx);
  if (tls) changes.push(tls);
  if (diff?.state === 'ok') {
    // Installed as wanted, but no server that runs (last run's failure, lost nodes) is work to do.
    const kube = await ctx.kube();
    const why = await Promise.all(
      serverNames(ctx.cluster.vault.replicas).map((n) => whyNotRunning(kube, spec.namespace, n)),
    );
    if (why.every((w) => w !== undefined))
      changes.push(`! no Vault server runs: ${why.map((w) => `${spec.namespace}/${w}`).join('; ')}`);
  }
  if (diff?.state === 'absent')
    return { status: 'absent', detail: `helm release ${name} is not installed`, changes: [...changes, ...summary] };
  if (changes.length > 0) return { status: 'drift', detail: changes.join('; '), changes: [...changes, ...summary] };
  return { status: 'up-to-date', detail: `Vault ${name}: up to date`, outputs: outputs(ctx) };
}

async function apply(ctx: StepContext) {
  const deployed = await helmFor(ctx).getValues(VAULT_RELEASE, ctx.cluster.vault.namespace);
  const spec = vaultSpec(ctx, deployed);
  const input = vaultValuesInput(ctx, deployed);
  const kube = await ctx.kube();
  if (await ensureNamespace(kube, spec.namespace, 'vault', {}, waitFor(ctx)))
    ctx.log.created(`namespace ${spec.namespace}`);
  const tls = await tlsSecretChange(ctx);
  if (tls) {
    throw new PlatctlError(
      'VAULT_TLS',
      `Vault serves TLS itself, but Secret ${spec.namespace}/${VAULT_TLS_SECRET} is missing`,
      {
        hint:
          `create it with tls.crt, tls.key and ca.crt for *.vault-internal (e.g. a cert-manager Certificate), ` +
          `or put ${spec.namespace} in istio.namespaces so Istio's mTLS covers Vault`,
      },
    );
  }
  if (!input.kmsAlias)
    ctx.log.warning('no KMS alias (kms step output or vault.kmsAlias): Vault will use the Shamir seal');
  if (!input.roleArn)
    ctx.log.warning('no IRSA role (iam step output vaultRoleArn): the awskms seal needs AWS credentials');
  for (const line of vaultValuesSummary(input)) ctx.log.info(line.trim());
  ctx.progress(`helm release ${spec.namespace}/${spec.release}`);
  await ensureRelease(helmFor(ctx), spec, ctx.log);
  const replicas = ctx.cluster.vault.replicas;
  const state = await waitForServers(kube, replicas, {
    namespace: spec.namespace,
    timeoutMs: parseDuration(ctx.cluster.vault.timeout),
    progress: (m) => ctx.progress(m),
  });
  const partial = partialWarning(state, spec.namespace, replicas);
  for (const line of partial) ctx.log.warning(line);
  if (partial.length === 0)
    ctx.log.success(`${replicas} Vault server(s) run (Ready only once initialised and unsealed)`);
  return outputs(ctx);
}

async function destroy(ctx: StepContext): Promise<void> {
  const ns = ctx.cluster.vault.namespace;
  if (await helmFor(ctx).uninstall(VAULT_RELEASE, ns)) ctx.log.success(`helm release ${ns}/${VAULT_RELEASE} removed`);
  // Raft data lives on PVCs the StatefulSet leaves behind; they go with the namespace when platctl made it.
  if ((await deleteNamespacesIfOurs(await ctx.kube(), [ns], 'vault', waitFor(ctx))).length > 0)
    ctx.log.success(`namespace ${ns} deleted`);
}

/** The vault step. */
export const vaultStep: Step = {
  id: 'vault',
  title: 'Vault on Raft (Helm)',
  inputs: (ctx) => {
    const { chart, chartVersion, namespace } = ctx.cluster.vault;
    return { chart, chartVersion, namespace, values: vaultSpec(ctx).values };
  },
  check,
  apply,
  destroy,
};
