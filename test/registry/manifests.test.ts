/** The ecr-credentials-sync manifests, without a cluster (the lab test applies them for real). */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import {
  ECR_SYNC_IMAGES,
  ecrRegistryHost,
  MANIFEST_HASH_ANNOTATION,
  registryManifests,
  syncRegistry,
} from '../../src/registry/manifests.js';
import type { StepContext } from '../../src/step.js';
import { registryParams } from '../../steps/registry.js';
import { clusterConfig, withField } from '../helpers/config.js';

const params = { roleArn: 'arn:aws:iam::1:role/r', region: 'us-east-1', registry: '1.dkr.ecr.us-east-1.amazonaws.com' };
const images = (objs: KubeObject[]) => JSON.stringify(objs).match(/"image":"[^"]+"/g);

describe('registry manifests', () => {
  it('syncs the mirror when it is an ECR registry, else the account registry', () => {
    expect(ecrRegistryHost('1', 'cn-north-1')).toBe('1.dkr.ecr.cn-north-1.amazonaws.com.cn');
    expect(syncRegistry('1', 'us-east-1', '2.dkr.ecr.eu-west-1.amazonaws.com/mirror')).toBe(
      '2.dkr.ecr.eu-west-1.amazonaws.com',
    );
    expect(syncRegistry('1', 'us-east-1', 'registry.example.com/mirror')).toBe('1.dkr.ecr.us-east-1.amazonaws.com');
    expect(syncRegistry('1', 'us-east-1', undefined)).toBe('1.dkr.ecr.us-east-1.amazonaws.com');
  });

  it('asks for the token in the region of the registry the Secret is for', () => {
    const cluster = withField(clusterConfig(), ['images', 'mirror'], '210987654321.dkr.ecr.us-west-2.amazonaws.com/m');
    const ctx = { cluster, outputs: () => ({}) } as unknown as StepContext;
    expect(registryParams(ctx)).toMatchObject({
      region: 'us-west-2',
      registry: '210987654321.dkr.ecr.us-west-2.amazonaws.com',
    });
    const own = { cluster: clusterConfig(), outputs: () => ({}) } as unknown as StepContext;
    expect(registryParams(own)).toMatchObject({
      region: 'us-east-1',
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    });
  });

  it('uses upstream images without a mirror and rewrites both with one', () => {
    expect(images(registryManifests(params))).toEqual([
      `"image":"${ECR_SYNC_IMAGES.awsCli}"`,
      `"image":"${ECR_SYNC_IMAGES.kubectl}"`,
    ]);
    expect(images(registryManifests({ ...params, mirror: 'm.example/mirror' }))).toEqual([
      '"image":"m.example/mirror/aws-cli/aws-cli:2.27.0"',
      '"image":"m.example/mirror/kubectl:v1.34.4"',
    ]);
  });

  it('hashes every manifest into the CronJob annotation, so any change shows on one read', () => {
    const hash = (o: KubeObject[]) => o[3]?.metadata.annotations?.[MANIFEST_HASH_ANNOTATION];
    const base = hash(registryManifests(params));
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(registryManifests(params))).toBe(base);
    expect(hash(registryManifests({ ...params, roleArn: 'arn:aws:iam::1:role/other' }))).not.toBe(base);
    expect(hash(registryManifests({ ...params, mirror: 'm.example' }))).not.toBe(base);
  });

  it('runs every 6 hours, one job at a time, with the Secret file on a memory-backed volume', () => {
    const cron = registryManifests(params)[3] as KubeObject & { spec: Record<string, unknown> };
    expect(cron.spec).toMatchObject({ schedule: '0 */6 * * *', concurrencyPolicy: 'Forbid' });
    expect(JSON.stringify(cron.spec.jobTemplate)).toContain('"emptyDir":{"medium":"Memory"');
  });
});
