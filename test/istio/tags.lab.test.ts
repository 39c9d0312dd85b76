/**
 * Tag objects: reading a tag's state from its webhook, and the keep/hand-over marks a move uses, against the
 * lab's apiserver (objects with this test's own names; the istiod chart is not needed for these).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import {
  deleteTagObjects,
  handOver,
  readTag,
  readTags,
  releaseKeep,
  tagServiceName,
  tagStateOf,
  tagWebhookName,
} from '../../src/istio/tags.js';
import { namespaceSettled } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const env = lab();
const tag = `t${process.pid}`;
let kube: KubeClient;

/** A webhook shaped like the one the istiod chart renders for `tag` on `rev`. */
const webhook = (rev: string): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  metadata: {
    name: tagWebhookName(tag),
    labels: {
      'istio.io/tag': tag,
      'istio.io/rev': rev,
      'helm.sh/chart': 'istiod-1.30.3',
      'app.kubernetes.io/managed-by': 'Helm',
    },
    annotations: { 'meta.helm.sh/release-name': `istiod-${rev}`, 'meta.helm.sh/release-namespace': 'istio-system' },
  },
  webhooks: [
    {
      name: 'rev.namespace.sidecar-injector.istio.io',
      clientConfig: { service: { name: `istiod-${rev}`, namespace: 'istio-system', path: '/inject', port: 443 } },
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      // Matches nothing: this test must not intercept anyone's pods.
      namespaceSelector: { matchLabels: { [`platctl-test-${tag}`]: 'never' } },
    },
  ],
});

beforeAll(async () => {
  kube = await connectKube({ kubeconfig: env.kubeconfig });
  await namespaceSettled(kube, 'istio-system');
  if (!(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'istio-system' }))) {
    await kube.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'istio-system', annotations: { 'platctl.io/created-by': 'istio' } },
    });
  }
  await kube.create(webhook('1-30-3'));
  await kube.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: tagServiceName(tag), namespace: 'istio-system' },
    spec: { ports: [{ port: 15012, name: 'https-dns' }], selector: { app: 'istiod', 'istio.io/rev': '1-30-3' } },
  });
});

afterAll(async () => {
  await deleteTagObjects(kube, tag);
  const sys = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'istio-system' });
  if (sys?.metadata.annotations?.['platctl.io/created-by'] === 'istio') {
    const left = await kube.list('v1', 'Service', { namespace: 'istio-system' });
    if (left.length === 0) await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'istio-system' });
  }
});

describe('tags', () => {
  it('reads where a tag points: revision label, service called, owning release, chart', async () => {
    expect(await readTag(kube, tag)).toEqual({
      tag,
      revision: '1-30-3',
      release: 'istiod-1-30-3',
      service: 'istiod-1-30-3',
      kept: false,
      chart: 'istiod-1.30.3',
    });
    expect((await readTags(kube)).get(tag)?.revision).toBe('1-30-3');
    expect(await readTag(kube, `${tag}-nope`)).toBeUndefined();
  });

  it('hand-over marks both objects keep and owned by the new release; releaseKeep clears only the keep mark', async () => {
    await handOver(kube, tag, 'istiod-1-30-4');
    const svcRef = { apiVersion: 'v1', kind: 'Service', namespace: 'istio-system', name: tagServiceName(tag) };
    expect(await readTag(kube, tag)).toMatchObject({ kept: true, release: 'istiod-1-30-4', revision: '1-30-3' });
    expect((await kube.get(svcRef))?.metadata.annotations).toMatchObject({
      'helm.sh/resource-policy': 'keep',
      'meta.helm.sh/release-name': 'istiod-1-30-4',
    });
    await releaseKeep(kube, tag);
    expect(await readTag(kube, tag)).toMatchObject({ kept: false, release: 'istiod-1-30-4' });
    expect((await kube.get(svcRef))?.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
  });

  it('parses a webhook without annotations or services', () => {
    const bare = tagStateOf({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'istio-revision-tag-canary', labels: { 'istio.io/rev': 'blue' } },
    });
    expect(bare).toEqual({
      tag: 'canary',
      revision: 'blue',
      release: undefined,
      service: undefined,
      kept: false,
      chart: undefined,
    });
  });
});
