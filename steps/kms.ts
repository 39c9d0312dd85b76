/**
 * Step `kms`: the customer-managed keys behind `alias/platctl/<cluster>/vault` (Vault auto-unseal) and
 * `alias/platctl/<cluster>/ebs` (EBS encryption), each with a key policy and tags. Never two keys for one
 * alias: before CreateKey the step adopts a key already tagged for the cluster and purpose (a run killed between
 * CreateKey and CreateAlias leaves exactly such a key). Destroy deletes the aliases and schedules the keys'
 * deletion (30 days unless PLATCTL_KMS_DELETION_WINDOW_DAYS says 7–30). See docs/steps/kms.md.
 */
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { assertAccount } from '../src/aws/account.js';
import { awsCall } from '../src/aws/errors.js';
import {
  deletionWindowDays,
  describeAlias,
  getKeyPolicy,
  getKeyTags,
  KEY_PURPOSES,
  KEY_TAG,
  type KeyPurpose,
  keyAlias,
  keyArn,
  keyPolicy,
  listAliases,
  retireKey,
  retryWhilePrincipalPropagates,
} from '../src/aws/kms-ops.js';
import { type ClusterKeySearch, findClusterKeys, skippedLine } from '../src/aws/kms-search.js';
import { partitionOf } from '../src/aws/partition.js';
import { describePolicyDiff, type PolicyDocument } from '../src/aws/policy.js';
import { CLUSTER_TAG, kmsTagList, platctlTags } from '../src/aws/tags.js';
import { PlatctlError } from '../src/errors.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { crashPoint } from '../src/test-seams.js';
import { readIamOutputs } from './iam.js';

interface KeyWant {
  purpose: KeyPurpose;
  alias: string;
  policy: PolicyDocument;
  tags: Record<string, string>;
}

/** The kms step's outputs: id, ARN and alias of each key (`<purpose>KeyId`, …). */
export const readKmsOutputs = outputReader('kms', {
  vaultKeyId: 'string',
  vaultKeyArn: 'string',
  vaultKeyAlias: 'string',
  ebsKeyId: 'string',
  ebsKeyArn: 'string',
  ebsKeyAlias: 'string',
});

const vaultRoleOf = (ctx: StepContext) => readIamOutputs(ctx).vaultRoleArn;

function wants(ctx: StepContext): KeyWant[] {
  const { aws } = ctx.cluster;
  return KEY_PURPOSES.map((purpose) => ({
    purpose,
    alias: keyAlias(ctx.cluster, purpose),
    policy: keyPolicy({
      partition: partitionOf(aws.region),
      accountId: aws.accountId,
      useBy: purpose === 'vault' ? vaultRoleOf(ctx) : undefined,
    }),
    tags: { ...platctlTags(ctx.cluster, 'kms'), [KEY_TAG]: purpose },
  }));
}

function outputsOf(ctx: StepContext, found: Map<KeyPurpose, { id: string; arn?: string; alias: string }>): StepOutputs {
  const keys = [...found].flatMap(([purpose, k]) => [
    [`${purpose}KeyId` as const, k.id],
    [`${purpose}KeyArn` as const, k.arn ?? keyArn(ctx.cluster, k.id)],
    [`${purpose}KeyAlias` as const, k.alias],
  ]);
  return readKmsOutputs.record(Object.fromEntries(keys));
}

/** How an existing key differs from what is wanted ("disabled", "key policy: …", "tags missing: …"). */
async function keyDrift(kms: KMSClient, meta: KeyMetadata, want: KeyWant): Promise<string[]> {
  const id = meta.KeyId ?? '';
  const drift: string[] = [];
  if (meta.KeyState === 'PendingDeletion') drift.push('pending deletion');
  else if (meta.KeyState !== 'Enabled') drift.push(`key state ${meta.KeyState}`);
  drift.push(...describePolicyDiff(want.policy, await getKeyPolicy(kms, id)).map((d) => `key policy: ${d}`));
  const tags = await getKeyTags(kms, id);
  const missing = Object.entries(want.tags).filter(([k, v]) => tags[k] !== v);
  if (missing.length) drift.push(`tags missing: ${missing.map(([k]) => k).join(', ')}`);
  return drift;
}

/** Brings an existing key in line: cancel a scheduled deletion, enable, reset the policy, add tags. */
async function fixKey(
  kms: KMSClient,
  meta: KeyMetadata,
  want: KeyWant,
  drift: string[],
  principal: string,
  waiting: () => void,
): Promise<void> {
  const sdk = await import('../src/aws/kms.js');
  const KeyId = meta.KeyId ?? '';
  const call = <T>(action: string, fn: () => Promise<T>) =>
    awsCall({ action: `kms:${action}`, resource: `key ${want.alias} (${KeyId})`, principal }, fn);
  if (drift.includes('pending deletion'))
    await call('CancelKeyDeletion', () => kms.send(new sdk.CancelKeyDeletionCommand({ KeyId })));
  if (drift.some((d) => d === 'pending deletion' || d.startsWith('key state')))
    await call('EnableKey', () => kms.send(new sdk.EnableKeyCommand({ KeyId })));
  if (drift.some((d) => d.startsWith('key policy')))
    await call('PutKeyPolicy', () =>
      retryWhilePrincipalPropagates(
        () =>
          kms.send(new sdk.PutKeyPolicyCommand({ KeyId, PolicyName: 'default', Policy: JSON.stringify(want.policy) })),
        waiting,
      ),
    );
  if (drift.some((d) => d.startsWith('tags missing')))
    await call('TagResource', () =>
      kms.send(
        new sdk.TagResourceCommand({
          KeyId,
          Tags: Object.entries(want.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        }),
      ),
    );
}

/** The search for alias-less keys, made at most once per run and shared by both purposes. */
type Search = () => Promise<ClusterKeySearch>;

function searchOnce(ctx: StepContext, kms: KMSClient, principal: string, why: string): Search {
  let search: Promise<ClusterKeySearch> | undefined;
  return () => {
    search ??= awsCall(
      { action: 'kms:ListResourceTags', resource: `keys tagged ${CLUSTER_TAG}=${ctx.cluster.name}`, principal },
      () => findClusterKeys(kms, ctx.cluster.name),
    ).then((r) => {
      const skipped = skippedLine(r.skipped);
      if (skipped) ctx.log.warning(`${skipped} while looking for ${why}`);
      return r;
    });
    return search;
  };
}

/** Ensures one aliased key: existing alias → fix; tagged orphan → adopt + alias; else CreateKey + alias. */
async function ensureKey(ctx: StepContext, kms: KMSClient, want: KeyWant, principal: string, search: Search) {
  const sdk = await import('../src/aws/kms.js');
  const call = <T>(action: string, fn: () => Promise<T>) =>
    awsCall({ action: `kms:${action}`, resource: want.alias, principal }, fn);
  const waiting = () => ctx.log.waiting(`waiting for IAM to propagate the Vault role before using it in ${want.alias}`);
  let meta = await call('DescribeKey', () => describeAlias(kms, want.alias));
  if (!meta) {
    const tagged = (await search()).byPurpose.get(want.purpose) ?? [];
    meta = tagged[0];
    if (meta) {
      ctx.log.info(`adopting KMS key ${meta.KeyId} tagged ${KEY_TAG}=${want.purpose} (an earlier run made it)`);
      if (tagged.length > 1)
        ctx.log.warning(`${tagged.length} keys are tagged ${KEY_TAG}=${want.purpose}: using the oldest, ${meta.KeyId}`);
    } else {
      const create = new sdk.CreateKeyCommand({
        Description: `platctl ${want.purpose} key for cluster ${ctx.cluster.name}`,
        Policy: JSON.stringify(want.policy),
        Tags: kmsTagList(ctx.cluster, 'kms').concat({ TagKey: KEY_TAG, TagValue: want.purpose }),
      });
      const created = await call('CreateKey', () => retryWhilePrincipalPropagates(() => kms.send(create), waiting));
      meta = created.KeyMetadata;
      ctx.log.created(`KMS key ${meta?.KeyId} (${want.purpose})`);
      // A kill here leaves a tagged key without its alias: the next run adopts it (see findClusterKeys).
      crashPoint('kms', 'after-create-key');
    }
    await call('CreateAlias', () =>
      kms.send(new sdk.CreateAliasCommand({ AliasName: want.alias, TargetKeyId: meta?.KeyId })),
    );
    ctx.log.created(`KMS alias ${want.alias} → ${meta?.KeyId}`);
  }
  if (!meta?.KeyId) throw new PlatctlError('AWS_API', `KMS returned no key id for ${want.alias}`);
  const drift = await call('GetKeyPolicy', () => keyDrift(kms, meta, want));
  if (drift.length) {
    await fixKey(kms, meta, want, drift, principal, waiting);
    ctx.log.success(`KMS key ${want.alias}: fixed ${drift.join('; ')}`);
  }
  return { id: meta.KeyId, arn: meta.Arn, alias: want.alias };
}

async function check(ctx: StepContext): Promise<CheckResult> {
  const kms = await ctx.aws.kms();
  const all = wants(ctx);
  const found = new Map<KeyPurpose, { id: string; alias: string; arn?: string }>();
  const changes: string[] = [];
  if (!ctx.deep) {
    // One read: ListAliases shows whether each alias exists and which key it names.
    const aliases = await awsCall({ action: 'kms:ListAliases', resource: 'aliases' }, () =>
      listAliases(
        kms,
        all.map((w) => w.alias),
      ),
    );
    for (const w of all) {
      const id = aliases.get(w.alias);
      if (id) found.set(w.purpose, { id, alias: w.alias });
      else changes.push(`+ KMS key and alias ${w.alias}`);
    }
  } else {
    for (const w of all) {
      const meta = await awsCall({ action: 'kms:DescribeKey', resource: w.alias }, () => describeAlias(kms, w.alias));
      if (!meta?.KeyId) {
        changes.push(`+ KMS key and alias ${w.alias}`);
        continue;
      }
      found.set(w.purpose, { id: meta.KeyId, arn: meta.Arn, alias: w.alias });
      const drift = await awsCall({ action: 'kms:GetKeyPolicy', resource: w.alias }, () => keyDrift(kms, meta, w));
      for (const d of drift) changes.push(`~ KMS key ${w.alias}: ${d}`);
    }
  }
  if (changes.length === 0)
    return {
      status: 'up-to-date',
      detail: `KMS keys ${all.map((w) => w.alias).join(', ')} up to date`,
      outputs: outputsOf(ctx, found),
    };
  const detail = changes.length === 1 ? (changes[0] ?? '') : `${changes[0]} (and ${changes.length - 1} more)`;
  return { status: found.size === 0 ? 'absent' : 'drift', detail, changes };
}

/** The `kms` step. */
export const kmsStep: Step = {
  id: 'kms',
  title: 'KMS keys (Vault unseal, EBS)',
  inputs: (ctx) => ({
    cluster: ctx.cluster.name,
    accountId: ctx.cluster.aws.accountId,
    region: ctx.cluster.aws.region,
    tags: ctx.cluster.aws.tags,
    aliases: KEY_PURPOSES.map((p) => keyAlias(ctx.cluster, p)),
    vaultRoleArn: vaultRoleOf(ctx),
  }),
  check,
  async apply(ctx) {
    const me = await assertAccount(ctx.aws, ctx.cluster);
    const kms = await ctx.aws.kms();
    const found = new Map<KeyPurpose, { id: string; arn?: string; alias: string }>();
    const search = searchOnce(ctx, kms, me.arn, 'a key an earlier run made without its alias');
    // One key at a time: the crash point and the adoption search stay easy to reason about.
    for (const w of wants(ctx)) found.set(w.purpose, await ensureKey(ctx, kms, w, me.arn, search));
    return outputsOf(ctx, found);
  },
  async destroy(ctx) {
    const me = await assertAccount(ctx.aws, ctx.cluster);
    const kms = await ctx.aws.kms();
    const days = deletionWindowDays(ctx.cluster);
    const search = searchOnce(ctx, kms, me.arn, 'keys a killed run left without their alias');
    for (const w of wants(ctx)) {
      // The alias first: the key behind it is this cluster's whatever its tags say.
      const target = await awsCall({ action: 'kms:DescribeKey', resource: w.alias, principal: me.arn }, () =>
        describeAlias(kms, w.alias),
      );
      await retireKey(kms, { alias: w.alias, key: target, days, principal: me.arn });
      // Keys left without an alias by a killed run are this cluster's too.
      const orphans = ((await search()).byPurpose.get(w.purpose) ?? []).filter((k) => k.KeyId !== target?.KeyId);
      for (const key of orphans) await retireKey(kms, { key, days, principal: me.arn });
      ctx.log.success(`KMS alias ${w.alias} deleted; key deletion scheduled in ${days} days`);
    }
  },
};
