/**
 * KMS operations for the `kms` step. CreateKey is not idempotent: a run killed between CreateKey and CreateAlias
 * leaves a key no alias points to, so before creating a key platctl looks for one tagged with the cluster and
 * the key's purpose (not pending deletion; src/aws/kms-search.ts) and adopts it. That is what keeps "one key per
 * alias" true.
 */
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { awsCall, isAwsError } from './errors.js';
import { arn, type Partition, partitionOf } from './partition.js';
import type { PolicyDocument } from './policy.js';

/** What a key is for. */
export type KeyPurpose = 'vault' | 'ebs';
/** Every purpose, in the order the step handles them. */
export const KEY_PURPOSES: readonly KeyPurpose[] = ['vault', 'ebs'];
/** Tag naming a key's purpose; with the cluster tag it identifies the key without its alias. */
export const KEY_TAG = 'platctl.io/key';
/** Environment override of the deletion window (days, 7–30). */
export const DELETION_WINDOW_ENV = 'PLATCTL_KMS_DELETION_WINDOW_DAYS';

/** The alias of a cluster's key: `alias/platctl/<cluster>/<purpose>` (vault.kmsAlias overrides the vault one). */
export function keyAlias(cluster: ClusterConfig, purpose: KeyPurpose): string {
  if (purpose === 'vault' && cluster.vault.kmsAlias) return cluster.vault.kmsAlias;
  return `alias/platctl/${cluster.name}/${purpose}`;
}

/** The ARN of a key of the cluster's account and region. */
export function keyArn(cluster: ClusterConfig, keyId: string): string {
  return arn(partitionOf(cluster.aws.region), 'kms', cluster.aws.region, cluster.aws.accountId, `key/${keyId}`);
}

/**
 * The key policy: the account root may administer the key (which is also what lets IAM policies, such as the
 * IRSA roles' `kms:ResourceAliases` grants, take effect), and the Vault role may use the Vault key.
 */
export function keyPolicy(o: { partition: Partition; accountId: string; useBy?: string }): PolicyDocument {
  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministers',
        Effect: 'Allow',
        Principal: { AWS: arn(o.partition, 'iam', '', o.accountId, 'root') },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
  if (o.useBy)
    policy.Statement.push({
      Sid: 'VaultUsesKey',
      Effect: 'Allow',
      Principal: { AWS: o.useBy },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
      Resource: '*',
    });
  return policy;
}

/** The deletion window for ScheduleKeyDeletion: env, then `kms.deletionWindowDays` (proposed), then 30. */
export function deletionWindowDays(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): number {
  const fromConfig = (cluster as { kms?: { deletionWindowDays?: unknown } }).kms?.deletionWindowDays;
  const raw = env[DELETION_WINDOW_ENV] || (fromConfig === undefined ? undefined : String(fromConfig));
  if (raw === undefined) return 30;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 7 || days > 30)
    throw new PlatctlError('CONFIG_INVALID', `KMS deletion window ${raw} must be a whole number of days, 7 to 30`, {
      hint: `set ${DELETION_WINDOW_ENV} (or kms.deletionWindowDays) to 7–30; AWS allows nothing else`,
    });
  return days;
}

/** The key an alias points to, or undefined when the alias does not exist. */
export async function describeAlias(kms: KMSClient, alias: string): Promise<KeyMetadata | undefined> {
  const { DescribeKeyCommand } = await import('./kms.js');
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata;
  } catch (err) {
    if (isAwsError(err, 'NotFoundException')) return undefined;
    throw err;
  }
}

/** Alias name → target key id for every alias of the account and region (one read unless there are >100). */
export async function listAliases(kms: KMSClient, want: readonly string[]): Promise<Map<string, string>> {
  const { ListAliasesCommand } = await import('./kms.js');
  const found = new Map<string, string>();
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListAliasesCommand({ Limit: 100, Marker: marker }));
    for (const a of page.Aliases ?? []) if (a.AliasName && a.TargetKeyId) found.set(a.AliasName, a.TargetKeyId);
    // Stop paging as soon as every wanted alias is seen: the usual case costs one read.
    marker = page.Truncated && !want.every((w) => found.has(w)) ? page.NextMarker : undefined;
  } while (marker);
  return found;
}

/** Reads a key's policy (the only policy name KMS has is "default"). */
export async function getKeyPolicy(kms: KMSClient, keyId: string): Promise<string> {
  const { GetKeyPolicyCommand } = await import('./kms.js');
  return (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? '{}';
}

/** Reads a key's tags as a record. */
export async function getKeyTags(kms: KMSClient, keyId: string): Promise<Record<string, string>> {
  const { ListResourceTagsCommand } = await import('./kms.js');
  const tags = (await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags ?? [];
  return Object.fromEntries(tags.map((t) => [t.TagKey ?? '', t.TagValue ?? '']));
}

/** Deletes an alias (false when already gone) and schedules its key's deletion unless already scheduled. */
export async function retireKey(
  kms: KMSClient,
  o: { alias?: string; key?: KeyMetadata; days: number; principal?: string },
): Promise<void> {
  const { DeleteAliasCommand, ScheduleKeyDeletionCommand } = await import('./kms.js');
  if (o.alias) {
    const alias = o.alias;
    await awsCall({ action: 'kms:DeleteAlias', resource: alias, principal: o.principal }, async () => {
      try {
        await kms.send(new DeleteAliasCommand({ AliasName: alias }));
      } catch (err) {
        if (!isAwsError(err, 'NotFoundException')) throw err;
      }
    });
  }
  const key = o.key;
  if (!key?.KeyId || key.KeyState === 'PendingDeletion') return;
  await awsCall(
    { action: 'kms:ScheduleKeyDeletion', resource: key.Arn ?? key.KeyId, principal: o.principal },
    async () => {
      try {
        await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: o.days }));
      } catch (err) {
        if (!isAwsError(err, 'NotFoundException', 'KMSInvalidStateException')) throw err;
      }
    },
  );
}

/** How long to wait for a new IAM role to become usable as a key-policy principal (tests shorten it). */
export const principalPropagation = { attempts: 8, delayMs: 5000 };

/**
 * Runs a KMS call whose key policy names a role, retrying while KMS still calls that principal invalid:
 * IAM is eventually consistent, and the `iam` step created the Vault role seconds earlier.
 */
export async function retryWhilePrincipalPropagates<T>(
  call: () => Promise<T>,
  onRetry?: (n: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const propagating =
        isAwsError(err, 'MalformedPolicyDocumentException') && /principal/i.test(String((err as Error).message));
      if (!propagating || attempt >= principalPropagation.attempts) throw err;
      onRetry?.(attempt);
      await new Promise((r) => setTimeout(r, principalPropagation.delayMs));
    }
  }
}
