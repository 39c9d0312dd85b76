/**
 * Step `registry`: ECR pull credentials for what runs in the cluster. Applies (server-side) the
 * ecr-credentials-sync CronJob, its ServiceAccount (annotated with the IRSA role the `iam` step made: this step
 * never creates a role) and RBAC in flux-system; every 6 h the job refreshes the docker-registry Secret
 * flux-system/ecr-credentials (ECR passwords last 12 h). Images honour `images.mirror`. See docs/steps/registry.md.
 */

import { assertAccount } from '../src/aws/account.js';
import { irsaParams, roleArn } from '../src/aws/irsa.js';
import { type KubeClient, type KubeObject, type ObjectRef, refOf } from '../src/clients/kube.js';
import { createNamespace, waitFor } from '../src/clients/namespaces.js';
import { isPlatctlError } from '../src/errors.js';
import {
  ECR_SYNC,
  ecrRegistryOf,
  MANIFEST_HASH_ANNOTATION,
  type RegistryParams,
  registryManifests,
  syncRegistry,
} from '../src/registry/manifests.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { crashPoint } from '../src/test-seams.js';
import { readIamOutputs } from './iam.js';

const SECRET: ObjectRef = {
  apiVersion: 'v1',
  kind: 'Secret',
  name: ECR_SYNC.secretName,
  namespace: ECR_SYNC.namespace,
};

const label = (o: KubeObject) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;

/** The role ARN from the iam step's outputs; the naming convention's ARN when iam has not recorded one. */
function roleOf(ctx: StepContext): { arn: string; recorded: boolean } {
  const v = readIamOutputs(ctx).ecrCredentialsSyncRoleArn;
  if (v) return { arn: v, recorded: true };
  return { arn: roleArn(irsaParams(ctx.cluster), 'ecr-credentials-sync'), recorded: false };
}

/** The manifest parameters for this cluster. */
export function registryParams(ctx: StepContext): RegistryParams {
  const { aws, images } = ctx.cluster;
  const registry = syncRegistry(aws.accountId, aws.region, images.mirror);
  return {
    roleArn: roleOf(ctx).arn,
    // An ECR token is good for registries of the region it was asked in: ask in the registry's region.
    region: ecrRegistryOf(registry).region,
    registry,
    mirror: images.mirror,
  };
}

/** The registry step's outputs: the role the sync runs as, and the mirror when one is configured. */
export const readRegistryOutputs = outputReader('registry', { ecrCredentialsSyncRoleArn: 'string', mirror: 'string' });

function outputsOf(ctx: StepContext): StepOutputs {
  return readRegistryOutputs.record({ ecrCredentialsSyncRoleArn: roleOf(ctx).arn, mirror: ctx.cluster.images.mirror });
}

const hashOf = (o: KubeObject | undefined) => o?.metadata.annotations?.[MANIFEST_HASH_ANNOTATION];

async function check(ctx: StepContext): Promise<CheckResult> {
  const want = registryManifests(registryParams(ctx));
  let kube: KubeClient;
  try {
    kube = await ctx.kube();
  } catch (err) {
    // A dry run before the cluster exists: say what would be applied rather than fail the plan.
    if (!(ctx.dryRun && isPlatctlError(err) && err.code === 'KUBE_UNREACHABLE')) throw err;
    return {
      status: 'absent',
      detail: `cluster not reachable yet: ${err.message}`,
      changes: want.map((o) => `+ ${label(o)}`),
    };
  }
  const cronJob = want[want.length - 1] as KubeObject;
  // Cheap: ONE read, the CronJob, whose annotation hashes every manifest this step applies.
  const targets = ctx.deep ? want : [cronJob];
  const changes: string[] = [];
  let present = 0;
  for (const o of targets) {
    const found = await kube.get(refOf(o));
    if (!found) changes.push(`+ ${label(o)}`);
    else {
      present++;
      if (o === cronJob && hashOf(found) !== hashOf(cronJob)) changes.push(`~ ${label(o)}: manifests changed`);
      const role = o.kind === 'ServiceAccount' ? o.metadata.annotations?.['eks.amazonaws.com/role-arn'] : undefined;
      if (role && found.metadata.annotations?.['eks.amazonaws.com/role-arn'] !== role)
        changes.push(`~ ${label(o)}: role annotation differs (want ${role})`);
    }
  }
  if (changes.length === 0)
    return { status: 'up-to-date', detail: `${ECR_SYNC.name} CronJob up to date`, outputs: outputsOf(ctx) };
  const detail = changes.length === 1 ? (changes[0] ?? '') : `${changes[0]} (and ${changes.length - 1} more)`;
  return { status: present === 0 ? 'absent' : 'drift', detail, changes };
}

async function apply(ctx: StepContext): Promise<StepOutputs> {
  await assertAccount(ctx.aws, ctx.cluster);
  const role = roleOf(ctx);
  if (!role.recorded)
    ctx.log.warning(
      `the iam step recorded no ecrCredentialsSyncRoleArn: annotating with ${role.arn} (naming convention)`,
    );
  const kube = await ctx.kube();
  // Create, not apply: the flux step owns the namespace's labels.
  await createNamespace(kube, ECR_SYNC.namespace, {}, waitFor(ctx));
  for (const o of registryManifests(registryParams(ctx))) {
    await kube.apply(o, { force: true });
    ctx.log.success(`applied ${label(o)}`);
    if (o.kind === 'ServiceAccount') crashPoint('registry', 'after-service-account');
  }
  return outputsOf(ctx);
}

async function destroy(ctx: StepContext): Promise<void> {
  const kube = await ctx.kube();
  const objects = [...registryManifests(registryParams(ctx)).map(refOf).reverse(), SECRET];
  for (const ref of objects)
    if (await kube.delete(ref)) ctx.log.success(`deleted ${ref.kind} ${ref.namespace}/${ref.name}`);
}

/** The `registry` step. */
export const registryStep: Step = {
  id: 'registry',
  title: 'ECR credentials sync',
  inputs: (ctx) => ({ params: registryParams(ctx) }),
  check,
  apply,
  destroy,
};
