/**
 * Istio revision naming and values. The values are rendered with the lab's real helm against the upstream
 * charts (../shared/fixtures/charts/istio), so the keys are proved to land where the charts read them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { gatewayValues, istiodValues, istioSpecs, nativeSidecars } from '../../src/istio/values.js';
import { ISTIO_CHARTS, labCluster } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const env = lab();
type Obj = { kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platctl-istio-values-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** `helm template` of one chart with these values: the objects it renders. */
async function render(chart: string, release: string, values: unknown): Promise<Obj[]> {
  const file = path.join(tmp, `${release}.json`);
  await writeFile(file, JSON.stringify(values));
  const r = await execa(env.bins.helm, [
    'template',
    release,
    path.join(ISTIO_CHARTS, chart),
    '-n',
    'istio-system',
    '-f',
    file,
  ]);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

describe('istiod values, rendered by the upstream chart', () => {
  it('sets revision, revision tags, native sidecars, proxy start ordering and the mirrored hub', async () => {
    const c = labCluster(env, 'values-test', { images: { mirror: 'mirror.example.com/hub' } });
    const objs = await render('istiod', 'istiod-1-30-3', istiodValues(c, '1-30-3', ['prod-stable']));
    const deploy = objs.find((o) => o.kind === 'Deployment');
    expect(deploy?.metadata.name).toBe('istiod-1-30-3');
    const container = (
      deploy as unknown as {
        spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } };
      }
    ).spec.template.spec.containers[0];
    expect(container?.image).toBe('mirror.example.com/hub/istio/pilot:1.30.3');
    expect(container?.env).toContainEqual({ name: 'ENABLE_NATIVE_SIDECARS', value: 'true' });
    const mesh = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio-1-30-3') as unknown as {
      data: { mesh: string };
    };
    expect(mesh.data.mesh).toMatch(/holdApplicationUntilProxyStarts: true/);
    const tag = objs.find(
      (o) => o.kind === 'MutatingWebhookConfiguration' && o.metadata.name === 'istio-revision-tag-prod-stable',
    );
    expect(tag?.metadata.labels).toMatchObject({ 'istio.io/tag': 'prod-stable', 'istio.io/rev': '1-30-3' });
    const hooks = (tag as unknown as { webhooks: { clientConfig: { service: { name: string } } }[] }).webhooks;
    expect(hooks[0]?.clientConfig.service.name).toBe('istiod-1-30-3');
  });

  it('without a mirror keeps docker.io/istio; before Kubernetes 1.29 native sidecars are off', async () => {
    const c = labCluster(env, 'values-test', { kubernetes: { version: '1.28' } });
    expect(nativeSidecars(c)).toBe(false);
    const objs = await render('istiod', 'istiod-1-30-3', istiodValues(c, '1-30-3', []));
    const deploy = objs.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } };
    };
    expect(deploy.spec.template.spec.containers[0]?.image).toBe('docker.io/istio/pilot:1.30.3');
    expect(deploy.spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'ENABLE_NATIVE_SIDECARS',
      value: 'false',
    });
    expect(
      objs.some((o) => o.kind === 'MutatingWebhookConfiguration' && o.metadata.name.startsWith('istio-revision-tag')),
    ).toBe(false);
  });

  it('the gateway is injected through the first tag, and base points its validator at the revision', async () => {
    const c = labCluster(env, 'values-test');
    const gw = await render('gateway', 'istio-ingress', gatewayValues(c));
    const deploy = gw.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    expect(deploy.spec.template.metadata.labels['istio.io/rev']).toBe('prod-stable');
    const [base] = istioSpecs(c);
    const objs = await render('base', 'istio-base', base?.values);
    const validator = objs.find((o) => o.metadata.name === 'istiod-default-validator') as unknown as {
      metadata: { labels: Record<string, string> };
      webhooks: { clientConfig: { service: { name: string } } }[];
    };
    expect(validator.metadata.labels['istio.io/rev']).toBe('1-30-3');
    expect(validator.webhooks[0]?.clientConfig.service.name).toBe('istiod-1-30-3');
  });
});
