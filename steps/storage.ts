/**
 * Step `storage`: the AWS EBS CSI driver (upstream chart, the iam step's IRSA role) and the cluster's default
 * StorageClass, gp3 encrypted with the kms step's EBS key. EKS 1.30+ clusters have neither, so without this step
 * Vault's volumes never bind. A driver someone else installed (the EKS add-on) is used as it is. Teardown removes
 * the class and the driver, after the volumes Kubernetes is deleting are gone, and names every volume left.
 * See docs/steps/storage.md.
 */

import { keyAlias } from '../src/aws/kms-ops.js';
import { partitionOf } from '../src/aws/partition.js';
import type { KubeClient, KubeObject } from '../src/clients/kube.js';
import { waitForRollout } from '../src/clients/rollout.js';
import { PlatctlError } from '../src/errors.js';
import { parseDuration } from '../src/flux/wait.js';
import { CREATED_BY } from '../src/istio/namespaces.js';
import { outputReader } from '../src/state/outputs.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import {
  DEFAULT_CLASS,
  EBS_NAMESPACE,
  EBS_RELEASE,
  ebsDriverValues,
  keyAliasArn,
  type StorageInput,
  storageClass,
  storageSummary,
} from '../src/storage/values.js';
import { driverOwner, leftoverLines, waitForReleasedVolumes } from '../src/storage/volumes.js';
import { crashPoint } from '../src/test-seams.js';
import { helmFor } from '../src/tools/helm.js';
import { chartSource, expectedChartVersion } from '../src/tools/helm-chart.js';
import { diffReleases, ensureRelease, type ReleaseSpec, valuesDiff } from '../src/tools/helm-ensure.js';
import { readDeployedRelease } from '../src/tools/helm-release.js';
import { readIamOutputs } from './iam.js';
import { readKmsOutputs } from './kms.js';

/** The storage step's outputs: the default class, the EBS key it names, and whether platctl installed the driver. */
export const readStorageOutputs = outputReader('storage', {
  storageClass: 'string',
  kmsKeyId: 'string',
  driver: 'string',
});

/** The inputs: config plus the iam and kms steps' outputs (either may not have run yet). */
function storageInput(ctx: Pick<StepContext, 'cluster' | 'outputs'>): StorageInput {
  return {
    cluster: ctx.cluster,
    roleArn: readIamOutputs(ctx).ebsCsiRoleArn,
    keyAlias: readKmsOutputs(ctx).ebsKeyAlias ?? keyAlias(ctx.cluster, 'ebs'),
    partition: partitionOf(ctx.cluster.aws.region),
  };
}

/** The driver release as config wants it. */
export function driverSpec(ctx: Pick<StepContext, 'cluster' | 'outputs'>): ReleaseSpec {
  const s = ctx.cluster.storage;
  return {
    release: EBS_RELEASE,
    namespace: EBS_NAMESPACE,
    chart: chartSource(s.chart, EBS_RELEASE, s.chartVersion),
    values: ebsDriverValues(storageInput(ctx)),
  };
}

const scRef = (name: string) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name });
const controllerRefs = [
  { apiVersion: 'apps/v1', kind: 'Deployment', namespace: EBS_NAMESPACE, name: 'ebs-csi-controller' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: EBS_NAMESPACE, name: 'ebs-csi-node' },
];

type StorageClassObject = KubeObject & {
  provisioner?: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  allowVolumeExpansion?: boolean;
};

/** How the live class differs from the wanted one: immutable fields (delete and create) and the rest. */
function classDiff(want: StorageClassObject, have: StorageClassObject): { immutable: string[]; mutable: string[] } {
  // valuesDiff compares key-order-insensitively (the API server returns parameters sorted).
  const immutable = (['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode'] as const).filter(
    (k) => valuesDiff(want[k], have[k]).length > 0,
  );
  const mutable: string[] = [];
  if (have.metadata.annotations?.[DEFAULT_CLASS] !== 'true') mutable.push('not the default class');
  if (have.allowVolumeExpansion !== want.allowVolumeExpansion) mutable.push('allowVolumeExpansion');
  return { immutable, mutable };
}

/** The StorageClass part of a check: change lines (empty when it is as wanted). */
function classChanges(want: StorageClassObject, have: StorageClassObject | undefined): string[] {
  const name = want.metadata.name;
  if (!have) return [`+ StorageClass ${name} (default, gp3, encrypted)`];
  const ours = have.metadata.annotations?.[CREATED_BY] === 'storage';
  const d = classDiff(want, have);
  if (!ours && d.immutable.length > 0)
    return [`! StorageClass ${name} exists, was not made by platctl, and differs at ${d.immutable.join(', ')}`];
  const all = [...d.immutable, ...d.mutable];
  return all.length > 0 ? [`~ StorageClass ${name}: ${all.join(', ')}`] : [];
}

/** The driver part of a cheap check: ONE read of the release's storage Secret; a foreign driver costs one more. */
async function cheapDriverChanges(kube: KubeClient, spec: ReleaseSpec): Promise<string[]> {
  const name = `${spec.namespace}/${spec.release}`;
  const r = await readDeployedRelease(kube, spec.release, spec.namespace);
  if (!r) return (await driverOwner(kube)) === 'other' ? [] : [`+ helm release ${name}`];
  const paths = valuesDiff(spec.values, r.values);
  const chart = expectedChartVersion(spec.chart);
  if (paths.length > 0) return [`~ ${name}: values differ at ${paths.join(', ')}`];
  return r.chartVersion === chart ? [] : [`~ ${name}: chart ${r.chartVersion} → ${chart}`];
}

async function check(ctx: StepContext): Promise<CheckResult> {
  const input = storageInput(ctx);
  const spec = driverSpec(ctx);
  const kube = await ctx.kube();
  let changes: string[];
  if (ctx.deep) {
    const owner = await driverOwner(kube);
    changes = owner === 'other' ? [] : ((await diffReleases(helmFor(ctx), [spec]))[0]?.reasons ?? []);
  } else changes = await cheapDriverChanges(kube, spec);
  const want = storageClass(input) as StorageClassObject;
  changes.push(...classChanges(want, await kube.get<StorageClassObject>(scRef(want.metadata.name))));
  if (changes.length === 0)
    return { status: 'up-to-date', detail: `EBS CSI driver and StorageClass ${want.metadata.name}: up to date` };
  const absent = changes.every((c) => c.startsWith('+'));
  return {
    status: absent ? 'absent' : 'drift',
    detail: changes.join('; '),
    changes: [...changes, ...storageSummary(input)],
  };
}

/** Creates or repairs the default class; a class someone else made is used only when it is what we want. */
async function ensureClass(ctx: StepContext, kube: KubeClient, want: StorageClassObject): Promise<void> {
  const name = want.metadata.name;
  const have = await kube.get<StorageClassObject>(scRef(name));
  if (!have) {
    await kube.create(want);
    ctx.log.created(`StorageClass ${name} (default, gp3, encrypted with ${want.parameters?.kmsKeyId})`);
    return;
  }
  const d = classDiff(want, have);
  const ours = have.metadata.annotations?.[CREATED_BY] === 'storage';
  if (!ours && d.immutable.length > 0) {
    throw new PlatctlError(
      'STORAGE_CLASS_CONFLICT',
      `StorageClass ${name} exists, was not made by platctl, and differs at ${d.immutable.join(', ')}`,
      { hint: `set storage.storageClass to another name, or delete StorageClass ${name} if nothing uses it` },
    );
  }
  if (d.immutable.length > 0) {
    // A StorageClass's parameters cannot change: replace it. Volumes already made keep their own settings.
    await kube.delete(scRef(name));
    await kube.create(want);
    ctx.log.success(`StorageClass ${name} re-created (${d.immutable.join(', ')} changed)`);
  } else if (d.mutable.length > 0) {
    await kube.patch(scRef(name), {
      metadata: { annotations: { [DEFAULT_CLASS]: 'true' } },
      allowVolumeExpansion: want.allowVolumeExpansion,
    });
    ctx.log.success(`StorageClass ${name}: ${d.mutable.join(', ')} fixed`);
  }
  const others = (await kube.list<StorageClassObject>('storage.k8s.io/v1', 'StorageClass')).filter(
    (c) => c.metadata.name !== name && c.metadata.annotations?.[DEFAULT_CLASS] === 'true',
  );
  for (const c of others)
    ctx.log.warning(
      `StorageClass ${c.metadata.name} is also marked default: a claim without a class gets the newest default; ` +
        `kubectl annotate storageclass ${c.metadata.name} ${DEFAULT_CLASS}-`,
    );
}

async function apply(ctx: StepContext) {
  const input = storageInput(ctx);
  const spec = driverSpec(ctx);
  const kube = await ctx.kube();
  if (!input.roleArn)
    ctx.log.warning('no IRSA role (iam step output ebsCsiRoleArn): the driver cannot create volumes in AWS');
  if (!readKmsOutputs(ctx).ebsKeyAlias)
    ctx.log.warning(`no kms step output: the class names ${keyAliasArn(input)}, which must exist before a volume`);
  for (const line of storageSummary(input)) ctx.log.info(line.trim());
  const owner = await driverOwner(kube);
  if (owner === 'other') ctx.log.info('an EBS CSI driver platctl did not install is present (EKS add-on?): using it');
  else {
    ctx.progress(`helm release ${spec.namespace}/${spec.release}`);
    await ensureRelease(helmFor(ctx), spec, ctx.log);
    await waitForRollout(kube, controllerRefs, {
      timeoutMs: parseDuration(ctx.cluster.storage.timeout),
      progress: (m) => ctx.progress(m),
      hint: 'the driver must run before any volume is made: check its image (images.mirror) and IRSA role',
    });
    crashPoint('storage', 'after-driver');
  }
  await ensureClass(ctx, kube, storageClass(input) as StorageClassObject);
  const driver = owner === 'other' ? 'existing' : 'installed';
  return readStorageOutputs.record({
    storageClass: ctx.cluster.storage.storageClass,
    kmsKeyId: keyAliasArn(input),
    driver,
  });
}

async function destroy(ctx: StepContext): Promise<void> {
  const kube = await ctx.kube();
  const name = ctx.cluster.storage.storageClass;
  const sc = await kube.get(scRef(name));
  if (sc?.metadata.annotations?.[CREATED_BY] === 'storage' && (await kube.delete(scRef(name))))
    ctx.log.success(`StorageClass ${name} deleted`);
  const owner = await driverOwner(kube);
  // The driver deletes the EBS volume of every released claim (reclaim Delete): let it finish before it goes.
  const left = await waitForReleasedVolumes(kube, {
    timeoutMs: parseDuration(ctx.cluster.storage.timeout),
    progress: (m) => ctx.progress(m),
  });
  if (owner !== 'other' && (await helmFor(ctx).uninstall(EBS_RELEASE, EBS_NAMESPACE)))
    ctx.log.success(`helm release ${EBS_NAMESPACE}/${EBS_RELEASE} removed`);
  for (const line of leftoverLines(left)) ctx.log.warning(line);
}

/** The storage step. */
export const storageStep: Step = {
  id: 'storage',
  title: 'EBS CSI driver and the default gp3 StorageClass',
  inputs: (ctx) => {
    const { chart, chartVersion, storageClass: sc } = ctx.cluster.storage;
    return {
      chart,
      chartVersion,
      storageClass: sc,
      values: driverSpec(ctx).values,
      kmsKeyId: keyAliasArn(storageInput(ctx)),
    };
  },
  check,
  apply,
  destroy,
};
