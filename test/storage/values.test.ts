/** The storage step's chart values and StorageClass, from config and the iam/kms outputs. */
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/aws/partition.js';
import { validateConfig } from '../../src/config/load.js';
import { ebsDriverValues, keyAliasArn, storageClass, storageSummary } from '../../src/storage/values.js';
import { clusterConfig, rawCluster, rawPlatform } from '../helpers/config.js';

const input = (cluster = clusterConfig('prod')) => ({
  cluster,
  roleArn: 'arn:aws:iam::123456789012:role/platctl/prod/ebs-csi',
  keyAlias: 'alias/platctl/prod/ebs',
  partition: partitionOf(cluster.aws.region),
});

describe('EBS CSI driver values', () => {
  it('give the controller the IRSA role, the region, and platctl tags on every volume', () => {
    const v = ebsDriverValues(input()) as { controller: Record<string, unknown> };
    expect(v.controller).toEqual({
      region: 'us-east-1',
      serviceAccount: {
        name: 'ebs-csi-controller-sa',
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/platctl/prod/ebs-csi' },
      },
      extraVolumeTags: { 'platctl.io/cluster': 'prod', 'platctl.io/step': 'storage' },
      k8sTagClusterId: 'prod',
    });
    expect(v).not.toHaveProperty('image');
  });

  it('rewrite every image to images.mirror, keeping the chart tags', () => {
    const raw = { ...rawCluster('prod'), images: { mirror: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror' } };
    const cluster = validateConfig(rawPlatform(raw), 'test').clusters[0]!;
    const v = ebsDriverValues(input(cluster)) as {
      image: { repository: string };
      sidecars: Record<string, { image: { repository: string; tag?: string } }>;
    };
    const m = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror';
    expect(v.image.repository).toBe(`${m}/ebs-csi-driver/aws-ebs-csi-driver`);
    expect(v.sidecars.provisioner?.image).toEqual({ repository: `${m}/csi-components/csi-provisioner` });
    expect(Object.keys(v.sidecars).sort()).toEqual(
      [
        'attacher',
        'livenessProbe',
        'nodeDriverRegistrar',
        'provisioner',
        'resizer',
        'snapshotter',
        'volumemodifier',
      ].sort(),
    );
  });
});

describe('the default StorageClass', () => {
  it("is gp3, encrypted with the EBS key by alias ARN, WaitForFirstConsumer, default, marked as platctl's", () => {
    const sc = storageClass(input());
    expect(sc).toMatchObject({
      metadata: {
        name: 'gp3',
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true', 'platctl.io/created-by': 'storage' },
      },
      provisioner: 'ebs.csi.aws.com',
      parameters: {
        type: 'gp3',
        encrypted: 'true',
        kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:alias/platctl/prod/ebs',
      },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  });

  it("names the key in the region's partition", () => {
    const raw = { ...rawCluster('cn'), aws: { accountId: '123456789012', region: 'cn-north-1' } };
    const cluster = validateConfig(rawPlatform(raw), 'test').clusters[0]!;
    expect(keyAliasArn(input(cluster))).toBe('arn:aws-cn:kms:cn-north-1:123456789012:alias/platctl/prod/ebs');
  });

  it('takes its name from storage.storageClass, and the summary says what will be made', () => {
    const raw = { ...rawCluster('prod'), storage: { storageClass: 'ebs-encrypted' } };
    const cluster = validateConfig(rawPlatform(raw), 'test').clusters[0]!;
    expect(storageClass(input(cluster)).metadata.name).toBe('ebs-encrypted');
    expect(storageSummary(input(cluster)).join('\n')).toContain(
      'StorageClass ebs-encrypted (default): gp3, encrypted with arn:aws:kms:us-east-1:123456789012:alias/platctl/prod/ebs',
    );
  });
});
