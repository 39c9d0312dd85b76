/**
 * prepareTeardown's edge cases the shared lab cannot stage safely, with the in-memory KubeClient (AWS is still
 * the lab's moto, with a cluster name nothing is tagged for): Flux CRDs not installed, an API error that is not
 * a 404, and a controller that re-creates a deleted Service.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/clients/aws.js';
import { type KubeClient, type KubeObject, kubeError } from '../../src/clients/kube.js';
import { isPlatctlError } from '../../src/errors.js';
import { prepareTeardown } from '../../src/teardown/prepare.js';
import { clusterConfig } from '../helpers/config.js';
import { createFakeKube, type FakeKube } from '../helpers/fake-kube.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { labAws, uniqueName } from '../helpers/teardown-context.js';
import { lab } from '../lab/env.js';

let aws: AwsClients;
beforeAll(() => {
  aws = labAws(lab());
});

const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } };
const lbService: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'gw', namespace: 'apps' },
  spec: { type: 'LoadBalancer' },
};

/** The fake, with list of the given API versions answering like an apiserver without that CRD (or broken). */
function withListStatus(fake: FakeKube, apiVersions: string[], status: number): KubeClient {
  return {
    ...fake,
    list: (apiVersion, kind, opts) => {
      if (!apiVersions.includes(apiVersion)) return fake.list(apiVersion, kind, opts);
      return Promise.reject(
        kubeError(status, `list ${kind}`, JSON.stringify({ kind: 'Status', code: status, message: 'boom' })),
      );
    },
  };
}

const ctxFor = (kube: KubeClient) => {
  const log = memoryLogger();
  return {
    log,
    ctx: { kube: async () => kube, aws, cluster: clusterConfig(uniqueName('tdf')), log, dryRun: false },
  };
};

describe('prepareTeardown edge cases', () => {
  it('treats Flux CRDs that are not installed (404 on list) as nothing to suspend', async () => {
    const fake = createFakeKube();
    fake.seed(ns);
    fake.seed(lbService);
    const kube = withListStatus(fake, ['kustomize.toolkit.fluxcd.io/v1', 'helm.toolkit.fluxcd.io/v2'], 404);
    const { ctx } = ctxFor(kube);
    const report = await prepareTeardown(ctx, { timeoutMs: 5000, pollMs: 50 });
    expect(report.suspended).toEqual([]);
    expect(report.deleted).toEqual(['Service apps/gw']);
    expect(fake.peek({ apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'gw' })).toBeUndefined();
  });

  it('fails on any other API error when listing Flux objects, naming the kind', async () => {
    const kube = withListStatus(createFakeKube(), ['kustomize.toolkit.fluxcd.io/v1'], 500);
    const err = await prepareTeardown(ctxFor(kube).ctx).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('KUBE_API');
    expect((err as Error).message).toContain('Kustomization');
  });

  it('deletes again a Service a controller re-created, with a warning', async () => {
    const fake = createFakeKube();
    fake.seed(ns);
    fake.seed(lbService);
    let recreated = 0;
    const kube: KubeClient = {
      ...fake,
      delete: async (ref, opts) => {
        const gone = await fake.delete(ref, opts);
        // Playing a controller (e.g. istiod for a Gateway) that puts its Service back once.
        if (recreated++ === 0) fake.seed(lbService);
        return gone;
      },
    };
    const { ctx, log } = ctxFor(kube);
    const report = await prepareTeardown(ctx, { timeoutMs: 5000, pollMs: 50 });
    expect(recreated).toBe(2);
    expect(report.deleted).toEqual(['Service apps/gw']);
    expect(log.lines.some((l) => l.startsWith('⚠') && l.includes('Service apps/gw is back'))).toBe(true);
    expect(fake.peek({ apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'gw' })).toBeUndefined();
  });
});
