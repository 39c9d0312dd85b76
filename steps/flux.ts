/**
 * Step `flux`: installs Flux (mirrored images, multi-tenant lockdown), writes the cluster's folder in the fleet
 * repo with the operator's own git credentials (components, sync, kustomization, adoption manifests for the
 * Helm releases bootstrap installed), applies the GitRepository and Kustomization and waits until Flux is
 * Ready at the pushed revision. From then on the fleet repo is the source of truth. See docs/steps/flux.md.
 */
import type { KubeObject } from '../src/clients/kube.js';
import { PlatctlError } from '../src/errors.js';
import { adoptionFiles } from '../src/flux/adoption.js';
import { clusterPath, type FleetFile, fluxSystemFiles, syncFleet, syncObjects } from '../src/flux/fleet.js';
import { applyAll, installFlux, uninstallFlux } from '../src/flux/install.js';
import { type InstallSet, loadInstallSet } from '../src/flux/manifests.js';
import { parseDuration, requestReconcile, syncRefs, waitForSync } from '../src/flux/wait.js';
import { applyWebhook, removeWebhook, webhookChanges } from '../src/flux/webhook-setup.js';
import { fluxFixChange, fluxTrailingDotFix } from '../src/istio/flux-fix.js';
import { outputReader } from '../src/state/outputs.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { crashPoint } from '../src/test-seams.js';
import { PLATFORM_VARS } from '../src/vars/names.js';
import { readIamOutputs } from './iam.js';
import { readIstioOutputs } from './istio.js';
import { readKmsOutputs } from './kms.js';
import { PLATFORM_VARS_REF } from './vars.js';
import { readVaultOutputs } from './vault.js';

/** The flux step's outputs: the cluster's folder in the fleet repo and the revision Flux was Ready at. */
export const readFluxOutputs = outputReader('flux', {
  revision: 'string',
  path: 'string',
  /** The `flux.webhook.url` platctl registered (so dropping it from the config removes the webhook). */
  webhookUrl: 'string',
});

type Live = KubeObject & {
  spec?: Record<string, unknown> & { template?: { spec?: { containers?: { image?: string; args?: string[] }[] } } };
  status?: { conditions?: { type: string; status: string }[]; lastAppliedRevision?: string };
};

const ready = (o: Live | undefined) => o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Everything the step writes to the fleet repo for this cluster. */
function files(ctx: StepContext, set: InstallSet): FleetFile[] {
  return [...fluxSystemFiles(ctx.cluster, set.components), ...adoptionFiles(ctx)];
}

type SubstituteFrom = { kind?: string; name?: string; optional?: boolean }[] | undefined;

/** The fields of the root Kustomization that must match, as one comparable string (API defaults normalised). */
const kustomizationKey = (spec: Record<string, unknown> | undefined) => {
  const from = (spec?.postBuild as { substituteFrom?: SubstituteFrom } | undefined)?.substituteFrom ?? [];
  const vars = from.map((s) => `${s.kind}/${s.name}${s.optional ? '?' : ''}`);
  return JSON.stringify([spec?.path, spec?.prune, spec?.serviceAccountName, spec?.suspend ?? false, vars]);
};

/** The fields of the GitRepository that must match. */
const sourceKey = (spec: unknown) => {
  const s = spec as { url?: string; ref?: { branch?: string }; secretRef?: { name?: string } } | undefined;
  return [s?.url, s?.ref?.branch, s?.secretRef?.name];
};

/** Differences between the install set and the cluster (deep check): missing objects, changed controllers. */
async function installChanges(ctx: StepContext, set: InstallSet): Promise<string[]> {
  const kube = await ctx.kube();
  const changes: string[] = [];
  for (const want of [...set.first, ...set.rest] as Live[]) {
    const ref = {
      apiVersion: want.apiVersion,
      kind: want.kind,
      name: want.metadata.name,
      namespace: want.metadata.namespace,
    };
    const live = await kube.get<Live>(ref);
    const name = `${want.kind} ${want.metadata.name}`;
    if (!live) changes.push(`+ ${name}`);
    else if (want.kind === 'Deployment') {
      const c = (o: Live) => (o.spec?.template?.spec?.containers ?? []).map((x) => [x.image, x.args]);
      if (JSON.stringify(c(live)) !== JSON.stringify(c(want))) changes.push(`~ ${name} (images or lockdown args)`);
    }
  }
  return changes;
}

/** Builds the step; tests shorten the poll interval. */
export function createFluxStep(opts: { pollMs?: number } = {}): Step {
  return {
    id: 'flux',
    title: 'Flux install and hand-off to the fleet repo',
    // Everything the install and the fleet files are made from (the adoption values included).
    inputs: (ctx) => ({
      name: ctx.cluster.name,
      fleet: ctx.cluster.fleet,
      flux: ctx.cluster.flux,
      mirror: ctx.cluster.images.mirror ?? null,
      kubernetes: ctx.cluster.kubernetes.version,
      istio: ctx.cluster.istio,
      vault: ctx.cluster.vault,
      adopted: {
        istio: readIstioOutputs(ctx),
        vault: readVaultOutputs(ctx),
        kms: readKmsOutputs(ctx).vaultKeyAlias ?? null,
        iam: readIamOutputs(ctx).vaultRoleArn ?? null,
      },
    }),

    async check(ctx): Promise<CheckResult> {
      const path = clusterPath(ctx.cluster);
      const [, ksRef] = syncRefs();
      const want = syncObjects(ctx.cluster).kustomization.spec as Record<string, unknown>;
      const ks = await (await ctx.kube()).get<Live>(ksRef!);
      if (!ctx.deep) {
        // Cheap: ONE read. Flux moving on to later commits of the fleet repo is GitOps working, not drift.
        if (ks && ready(ks) && kustomizationKey(ks.spec) === kustomizationKey(want)) {
          return {
            status: 'up-to-date',
            detail: `Flux syncing ./${path} at ${ks.status?.lastAppliedRevision} up to date`,
          };
        }
        return {
          status: ks ? 'drift' : 'absent',
          detail: ks ? `Kustomization flux-system not Ready for ./${path}` : 'install Flux',
        };
      }
      const set = await loadInstallSet(ctx.cluster);
      const changes = await installChanges(ctx, set);
      const fix = await fluxFixChange(await ctx.kube());
      if (fix) changes.push(fix);
      const fleet = await syncFleet(files(ctx, set), { ...fleetOpts(ctx), dryRun: true });
      changes.push(...fleet.changed.map((f) => `~ fleet ${f}`));
      for (const f of fleet.kept) ctx.log.warning(`fleet ${f} was edited by hand: platctl leaves it alone`);
      const [gitRef] = syncRefs();
      const source = await (await ctx.kube()).get<Live>(gitRef!);
      const wantSource = syncObjects(ctx.cluster).gitRepository.spec;
      if (JSON.stringify(sourceKey(source?.spec)) !== JSON.stringify(sourceKey(wantSource))) {
        changes.push('~ GitRepository flux-system/flux-system');
      }
      if (!ks || kustomizationKey(ks.spec) !== kustomizationKey(want))
        changes.push('~ Kustomization flux-system/flux-system');
      else if (!ready(ks)) changes.push('~ wait for Kustomization flux-system/flux-system to be Ready');
      changes.push(...(await webhookChanges(ctx)));
      if (!(await (await ctx.kube()).get(PLATFORM_VARS_REF)))
        changes.push(
          `! ${PLATFORM_VARS_REF.kind} ${PLATFORM_VARS.namespace}/${PLATFORM_VARS.name} is missing (the vars step writes it)`,
        );
      if (changes.length === 0) {
        return {
          status: 'up-to-date',
          detail: `Flux syncing ./${path} at ${ks?.status?.lastAppliedRevision} up to date`,
          // The pushed revision when platctl pushed one; else (Flux found in place) the one Flux applied.
          outputs: readFluxOutputs.record({
            path,
            revision: readFluxOutputs(ctx).revision ?? ks?.status?.lastAppliedRevision ?? '',
            webhookUrl: ctx.cluster.flux.webhook?.url,
          }),
        };
      }
      return { status: ks ? 'drift' : 'absent', detail: `${changes.length} change(s) to Flux for ./${path}`, changes };
    },

    async apply(ctx) {
      const kube = await ctx.kube();
      // Before anything is written: without the variables Flux would refuse every Kustomization platctl writes.
      if (!(await kube.get(PLATFORM_VARS_REF))) throw missingVars(ctx);
      const set = await loadInstallSet(ctx.cluster);
      ctx.log.action(`installing Flux ${ctx.cluster.flux.version} (${set.first.length + set.rest.length} objects)`);
      await installFlux(kube, set, ctx.progress);
      ctx.log.success('Flux components applied');
      // Istio sidecars and Flux's trailing-dot FQDNs (see src/istio/flux-fix.ts): a no-op without Istio.
      await fluxTrailingDotFix(ctx);
      crashPoint('flux', 'after-install');

      const fleet = await syncFleet(files(ctx, set), fleetOpts(ctx));
      for (const f of fleet.kept) ctx.log.warning(`fleet ${f} was edited by hand: left alone`);
      if (fleet.committed)
        ctx.log.created(`pushed ${fleet.changed.join(', ')} to ${ctx.cluster.fleet.url} at ${fleet.sha}`);
      else ctx.log.info(`fleet repo already holds ./${clusterPath(ctx.cluster)}: no commit`);
      const revision = fleet.revision;
      if (!revision) {
        throw new PlatctlError(
          'FLEET_REPO',
          `fleet repo ${ctx.cluster.fleet.url} has no commit on ${ctx.cluster.fleet.branch}`,
        );
      }
      crashPoint('flux', 'after-push');

      const sync = syncObjects(ctx.cluster);
      await applyAll(kube, [sync.gitRepository, sync.kustomization]);
      const hook = await applyWebhook(ctx);
      // Fetch and apply now, not at the next interval (1 min / 10 min); and judge only what follows this request.
      const requested = await requestReconcile(kube, syncRefs());
      ctx.log.waiting(`waiting for Flux to be Ready at ${revision}`);
      await waitForSync(kube, {
        revision,
        requested,
        timeoutMs: parseDuration(ctx.cluster.flux.timeout),
        pollMs: opts.pollMs,
        progress: ctx.progress,
      });
      ctx.log.success(`Flux Ready at ${revision}`);
      return readFluxOutputs.record({ revision, path: clusterPath(ctx.cluster), ...hook });
    },

    async destroy(ctx) {
      const kube = await ctx.kube();
      const [gitRef, ksRef] = syncRefs();
      await removeWebhook(ctx);
      // Suspend first: deleting a live Kustomization with prune: true would garbage-collect the platform.
      if (await kube.get(ksRef!)) await kube.patch(ksRef!, { spec: { suspend: true } });
      for (const ref of [ksRef!, gitRef!]) if (await kube.delete(ref)) ctx.log.info(`deleted ${ref.kind} flux-system`);
      await uninstallFlux(kube, await loadInstallSet(ctx.cluster), ctx.log);
      ctx.log.success(`Flux removed; the fleet repo (./${clusterPath(ctx.cluster)}) is left as it is`);
    },
  };
}

/** The error when the cluster variables are not there yet. */
function missingVars(ctx: StepContext): PlatctlError {
  return new PlatctlError(
    'PLATFORM_VARS_MISSING',
    `ConfigMap ${PLATFORM_VARS.namespace}/${PLATFORM_VARS.name} is missing: the Kustomizations platctl writes substitute the cluster variables from it`,
    { hint: `run the vars step first: platctl bootstrap ${ctx.cluster.name} --from vars` },
  );
}

function fleetOpts(ctx: StepContext) {
  return {
    exec: ctx.exec,
    log: ctx.log,
    url: ctx.cluster.fleet.url,
    branch: ctx.cluster.fleet.branch,
    progress: ctx.progress,
    message: `platctl: Flux ${ctx.cluster.flux.version} for cluster ${ctx.cluster.name}`,
  };
}

/** The `flux` step. */
export const fluxStep: Step = createFluxStep();
