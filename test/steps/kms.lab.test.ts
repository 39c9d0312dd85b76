/**
 * The kms step against moto: one key per alias with its policy and tags, a re-run writes nothing, drift is
 * repaired, a real process SIGKILLed between CreateKey and CreateAlias is resumed by adopting the tagged key
 * (never a second key), and destroy deletes the aliases and schedules the keys' deletion.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  KMSServiceException,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { principalPropagation } from '../../src/aws/kms-ops.js';
import { createAwsClients } from '../../src/clients/aws.js';
import { kmsStep } from '../../steps/kms.js';
import { awsCluster, awsContext, failCommand, uniqueCluster, useLabAws, withDeep } from '../helpers/aws-context.js';
import { lab, labProcessEnv } from '../lab/env.js';

const env = lab();
useLabAws(env);
const raw = () => createAwsClients({ region: env.region }).kms();
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'kms-crash-child.ts');

/** Every key in moto tagged for this cluster, with its purpose tag and state (read independently of the step). */
async function clusterKeys(kms: KMSClient, cluster: string) {
  const keys: { id: string; purpose?: string; state?: string }[] = [];
  for (const k of (await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys ?? []) {
    const tags = (await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }))).Tags ?? [];
    if (!tags.some((t) => t.TagKey === 'platctl.io/cluster' && t.TagValue === cluster)) continue;
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
    keys.push({
      id: k.KeyId ?? '',
      purpose: tags.find((t) => t.TagKey === 'platctl.io/key')?.TagValue,
      state: meta?.KeyState,
    });
  }
  return keys;
}

const aliasTarget = async (kms: KMSClient, alias: string) =>
  (await kms.send(new DescribeKeyCommand({ KeyId: alias })).catch(() => undefined))?.KeyMetadata;

function setup(prefix: string) {
  const name = uniqueCluster(prefix);
  const cluster = awsCluster(env, name);
  const vaultRoleArn = `arn:aws:iam::123456789012:role/platctl/${name}/eks-vault-${name}`;
  const outputs = { iam: { vaultRoleArn } };
  return { name, cluster, outputs, vaultRoleArn, fresh: (deep = true) => awsContext(cluster, { outputs, deep }) };
}

describe('kms step against moto', () => {
  const s = setup('kms');
  const vaultAlias = `alias/platctl/${s.name}/vault`;
  const ebsAlias = `alias/platctl/${s.name}/ebs`;
  afterEach(() => {
    delete process.env.PLATCTL_KMS_DELETION_WINDOW_DAYS;
  });
  afterAll(async () => {
    await kmsStep.destroy(s.fresh().ctx);
  });

  it('creates one tagged key behind each alias, with the account-admin and vault-use key policy', async () => {
    const t = s.fresh();
    expect((await kmsStep.check(t.ctx)).status).toBe('absent');
    const out = (await kmsStep.apply(t.ctx)) ?? {};
    const kms = await raw();
    const vault = await aliasTarget(kms, vaultAlias);
    const ebs = await aliasTarget(kms, ebsAlias);
    expect(out).toMatchObject({
      vaultKeyId: vault?.KeyId,
      vaultKeyArn: vault?.Arn,
      vaultKeyAlias: vaultAlias,
      ebsKeyId: ebs?.KeyId,
      ebsKeyArn: ebs?.Arn,
      ebsKeyAlias: ebsAlias,
    });
    const keys = await clusterKeys(kms, s.name);
    expect(keys.map((k) => k.purpose).sort()).toEqual(['ebs', 'vault']);
    expect(keys.find((k) => k.purpose === 'vault')?.id).toBe(vault?.KeyId);

    const policy = JSON.parse(
      (await kms.send(new GetKeyPolicyCommand({ KeyId: vault?.KeyId, PolicyName: 'default' }))).Policy ?? '',
    );
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*' }),
    );
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { AWS: s.vaultRoleArn },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
      }),
    );
    const ebsPolicy = JSON.parse(
      (await kms.send(new GetKeyPolicyCommand({ KeyId: ebs?.KeyId, PolicyName: 'default' }))).Policy ?? '',
    );
    expect(JSON.stringify(ebsPolicy)).not.toContain(s.vaultRoleArn);
  });

  it('a second check and apply make zero AWS writes; the cheap check is one read', async () => {
    const t = s.fresh();
    const deep = await kmsStep.check(t.ctx);
    expect(deep.status, deep.detail).toBe('up-to-date');
    const reads = t.aws.counts.reads;
    const cheap = await kmsStep.check(withDeep(t, false));
    expect(cheap.status).toBe('up-to-date');
    expect(cheap.outputs?.vaultKeyAlias).toBe(vaultAlias);
    expect(t.aws.counts.reads - reads).toBe(1);
    await kmsStep.apply(t.ctx);
    expect(t.aws.counts.writes, t.aws.counts.calls.join(' ')).toBe(0);
  });

  it('reports a replaced key policy and puts it back', async () => {
    const kms = await raw();
    const vault = await aliasTarget(kms, vaultAlias);
    const rootOnly = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AccountAdministers',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:root' },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    };
    await kms.send(
      new PutKeyPolicyCommand({ KeyId: vault?.KeyId, PolicyName: 'default', Policy: JSON.stringify(rootOnly) }),
    );
    const t = s.fresh();
    const check = await kmsStep.check(t.ctx);
    expect(check.status).toBe('drift');
    expect(check.changes).toEqual([`~ KMS key ${vaultAlias}: key policy: statement VaultUsesKey missing`]);
    await kmsStep.apply(t.ctx);
    expect(t.aws.counts.calls.filter((c) => !/:(Get|List|Describe)/.test(c))).toEqual(['kms:PutKeyPolicy']);
    expect((await kmsStep.check(s.fresh().ctx)).status).toBe('up-to-date');
  });

  it('destroy deletes both aliases and schedules both keys for deletion in the configured window', async () => {
    process.env.PLATCTL_KMS_DELETION_WINDOW_DAYS = '7';
    const kms = await raw();
    const vaultId = (await aliasTarget(kms, vaultAlias))?.KeyId;
    await kmsStep.destroy(s.fresh().ctx);
    expect(await aliasTarget(kms, vaultAlias)).toBeUndefined();
    expect(await aliasTarget(kms, ebsAlias)).toBeUndefined();
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: vaultId }))).KeyMetadata;
    expect(meta?.KeyState).toBe('PendingDeletion');
    const days = ((meta?.DeletionDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    expect((await clusterKeys(kms, s.name)).map((k) => k.state)).toEqual(['PendingDeletion', 'PendingDeletion']);
    await kmsStep.destroy(s.fresh().ctx);
    expect((await kmsStep.check(s.fresh().ctx)).status).toBe('absent');
  });

  it('refuses a deletion window AWS would reject', async () => {
    process.env.PLATCTL_KMS_DELETION_WINDOW_DAYS = '3';
    await expect(kmsStep.destroy(s.fresh().ctx)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('kms step: killed between CreateKey and CreateAlias', () => {
  const s = setup('kms-crash');
  afterAll(async () => {
    await kmsStep.destroy(s.fresh().ctx);
  });
  const runChild = (extra: Record<string, string>) =>
    execa(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...labProcessEnv(env),
        PLATCTL_TEST_CLUSTER_JSON: JSON.stringify(s.cluster),
        PLATCTL_TEST_OUTPUTS_JSON: JSON.stringify(s.outputs),
        ...extra,
      },
      reject: false,
    });

  it('resumes by adopting the tagged key: exactly one key per alias', async () => {
    const crashed = await runChild({ PLATCTL_TEST_CRASH: 'kms:after-create-key' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(crashed.stderr).toContain('killing myself at kms:after-create-key');

    const kms = await raw();
    const orphans = await clusterKeys(kms, s.name);
    expect(orphans).toEqual([{ id: expect.any(String), purpose: 'vault', state: 'Enabled' }]);
    expect(await aliasTarget(kms, `alias/platctl/${s.name}/vault`)).toBeUndefined();

    const resumed = await runChild({});
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const out = JSON.parse(resumed.stdout.trim().split('\n').pop() ?? '{}');
    expect(out.vaultKeyId).toBe(orphans[0]?.id);

    const keys = await clusterKeys(kms, s.name);
    expect(keys).toHaveLength(2);
    expect(keys.filter((k) => k.purpose === 'vault').map((k) => k.id)).toEqual([orphans[0]?.id]);
    expect((await aliasTarget(kms, `alias/platctl/${s.name}/vault`))?.KeyId).toBe(orphans[0]?.id);
    expect((await aliasTarget(kms, `alias/platctl/${s.name}/ebs`))?.KeyId).toBe(
      keys.find((k) => k.purpose === 'ebs')?.id,
    );
  });
});

describe('kms step: a Vault role IAM has not propagated yet', () => {
  const s = setup('kms-prop');
  afterAll(async () => {
    principalPropagation.delayMs = 5000;
    await kmsStep.destroy(s.fresh().ctx);
  });

  it('retries CreateKey while KMS calls the new principal invalid, and still makes one key per alias', async () => {
    principalPropagation.delayMs = 10;
    const t = s.fresh();
    // moto accepts any principal at once; real KMS refuses a role IAM has not propagated yet, like this.
    const invalid = new KMSServiceException({
      name: 'MalformedPolicyDocumentException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Policy contains a statement with one or more invalid principals.',
    });
    failCommand(await t.aws.kms(), 'CreateKeyCommand', invalid, 2);
    const out = (await kmsStep.apply(t.ctx)) ?? {};
    expect(t.lines.filter((l) => l.startsWith('◎') && l.includes('waiting for IAM to propagate'))).toHaveLength(2);
    const keys = await clusterKeys(await raw(), s.name);
    expect(keys.map((k) => k.purpose).sort()).toEqual(['ebs', 'vault']);
    expect(out.vaultKeyId).toBe(keys.find((k) => k.purpose === 'vault')?.id);
  });

  it('does not retry a policy error that is not about a principal', async () => {
    const t = awsContext(awsCluster(env, uniqueCluster('kms-bad')), { outputs: s.outputs });
    const bad = new KMSServiceException({
      name: 'MalformedPolicyDocumentException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'The new key policy will not allow you to update the key policy in the future.',
    });
    failCommand(await t.aws.kms(), 'CreateKeyCommand', bad);
    await expect(kmsStep.apply(t.ctx)).rejects.toMatchObject({ code: 'AWS_API' });
    expect(t.lines.some((l) => l.includes('waiting for IAM'))).toBe(false);
  });
});
