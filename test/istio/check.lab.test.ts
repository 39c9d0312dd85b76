/**
 * The istio step's cheap check: exactly one Kubernetes read, whether it reads the first tag's webhook or,
 * with no tags configured, the istiod release's storage Secret. Fakes stand behind the KubeClient interface;
 * the full checks run against the lab in test/steps/istio.lab.test.ts.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { cheapCheck } from '../../src/istio/check.js';
import { istiodValues } from '../../src/istio/values.js';
import type { StepContext } from '../../src/step.js';
import { countingKube, labCluster, labContext } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const env = lab();

/** A KubeClient answering get/list from fixed objects. */
function fakeKube(objects: { get?: KubeObject; list?: KubeObject[] }): KubeClient {
  const no = async () => {
    throw new Error('no writes in a check');
  };
  return countingKube({
    server: 'fake',
    get: async () => objects.get as never,
    list: async () => (objects.list ?? []) as never,
    create: no,
    replace: no,
    apply: no,
    patch: no,
    delete: no,
  });
}

function ctxWith(kube: KubeClient, tags: string[]): StepContext & { kube: () => Promise<KubeClient> } {
  const cluster = labCluster(env, 'check', { istio: { version: '1.30.3', tags } });
  return { ...labContext(env, cluster, { deep: false }), kube: async () => kube };
}

const webhook = (rev: string, chart = 'istiod-1.30.3'): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  metadata: {
    name: 'istio-revision-tag-prod-stable',
    labels: { 'istio.io/tag': 'prod-stable', 'istio.io/rev': rev, 'helm.sh/chart': chart },
  },
});

const releaseSecret = (values: unknown, chartVersion = '1.30.3'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'sh.helm.release.v1.istiod-1-30-3.v1' },
  data: {
    release: Buffer.from(
      gzipSync(
        JSON.stringify({
          name: 'istiod-1-30-3',
          version: 1,
          info: { status: 'deployed' },
          chart: { metadata: { version: chartVersion } },
          config: values,
        }),
      ).toString('base64'),
    ).toString('base64'),
  },
});

describe('istio cheap check', () => {
  it('with tags: one GET of the tag webhook decides', async () => {
    const cases: [KubeObject | undefined, string, RegExp][] = [
      [webhook('1-30-3'), 'up-to-date', /istiod 1-30-3 serves tag prod-stable: up to date/],
      [webhook('1-30-4'), 'drift', /points at revision 1-30-4, platform.yaml asks for 1-30-3/],
      [webhook('1-30-3', 'istiod-1.29.0'), 'drift', /runs chart 1.29.0, platform.yaml asks for 1.30.3/],
      [undefined, 'absent', /istio-revision-tag-prod-stable does not exist/],
    ];
    for (const [obj, status, detail] of cases) {
      const kube = fakeKube({ get: obj }) as ReturnType<typeof countingKube>;
      const r = await cheapCheck(ctxWith(kube, ['prod-stable']));
      expect(r.status).toBe(status);
      expect(r.detail).toMatch(detail);
      expect(kube.counts).toMatchObject({ reads: 1, writes: 0 });
    }
  });

  it('without tags: one LIST of the istiod release Secret, comparing chart version and values', async () => {
    const cluster = labCluster(env, 'check', { istio: { version: '1.30.3', tags: [] } });
    const good = istiodValues(cluster, '1-30-3', []);
    const cases: [KubeObject[], string, RegExp][] = [
      [[releaseSecret(good)], 'up-to-date', /istiod 1-30-3: up to date/],
      [[releaseSecret({ ...good, revisionTags: ['x'] })], 'drift', /values differ at revisionTags/],
      [[], 'absent', /istiod-1-30-3 is not deployed/],
    ];
    for (const [list, status, detail] of cases) {
      const kube = fakeKube({ list }) as ReturnType<typeof countingKube>;
      const r = await cheapCheck(ctxWith(kube, []));
      expect(r.status).toBe(status);
      expect(r.detail).toMatch(detail);
      expect(kube.counts).toMatchObject({ reads: 1, writes: 0 });
    }
  });
});
