/**
 * What step tests that run Vault need from earlier steps: the cluster's EBS key in moto's KMS (as the kms step
 * makes it: a key behind `alias/platctl/<cluster>/ebs`) and the storage step applied (the EBS CSI driver chart and
 * the default gp3 class), so Vault's volumes bind through the lab's EBS provisioner. The returned cleanup runs the
 * storage step's destroy, unless the driver was there before (then the lab is left as it was found).
 */
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { keyAlias } from '../../src/aws/kms-ops.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { StateSession } from '../../src/runner/session.js';
import type { StepOutputs } from '../../src/state/types.js';
import { driverOwner } from '../../src/storage/volumes.js';
import { storageStep } from '../../steps/storage.js';
import type { LabEnv } from '../lab/env.js';
import { labContext } from './helm-context.js';

/** Creates the cluster's EBS key and alias in moto unless they exist; returns the alias. */
export async function ensureEbsKey(env: LabEnv, cluster: ClusterConfig): Promise<string> {
  const kms = new KMSClient({ endpoint: env.awsEndpoint, region: env.region, credentials: env });
  const alias = keyAlias(cluster, 'ebs');
  const have = await kms.send(new DescribeKeyCommand({ KeyId: alias })).catch(() => undefined);
  if (!have) {
    const key = await kms.send(new CreateKeyCommand({ Description: `platctl test ${cluster.name} ebs` }));
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyMetadata?.KeyId }));
  }
  return alias;
}

/** The kms and iam outputs the storage and vault steps read. */
export function storageOutputs(cluster: ClusterConfig): Record<string, StepOutputs> {
  return {
    kms: { ebsKeyAlias: keyAlias(cluster, 'ebs') },
    iam: { ebsCsiRoleArn: `arn:aws:iam::123456789012:role/platctl/${cluster.name}/ebs-csi` },
  };
}

/** Applies the storage step for `cluster`; returns the cleanup. */
export async function withLabStorage(env: LabEnv, cluster: ClusterConfig): Promise<() => Promise<void>> {
  await ensureEbsKey(env, cluster);
  const outputs = storageOutputs(cluster);
  const before = await driverOwner(await labContext(env, cluster).kube());
  await storageStep.apply(labContext(env, cluster, { outputs }));
  return async () => {
    if (before === undefined) await storageStep.destroy(labContext(env, cluster, { outputs }));
  };
}

/** Records earlier steps' outputs in the cluster's state (under $PLATCTL_HOME), as if they had run. */
export async function seedOutputs(
  env: LabEnv,
  cluster: ClusterConfig,
  outputs: Record<string, StepOutputs>,
): Promise<void> {
  const ctx = labContext(env, cluster);
  const { session } = await StateSession.open({
    cluster: cluster.name,
    log: ctx.log,
    command: 'test',
    kube: () => ctx.kube(),
    lock: true,
  });
  try {
    await session.store.update((s) => {
      for (const [id, o] of Object.entries(outputs)) s.steps[id] = { status: 'done', outputs: o };
    });
  } finally {
    await session.close();
  }
}
