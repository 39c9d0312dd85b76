/**
 * Step `istio` against the lab: the lab's real helm installs the upstream 1.30.3 charts
 * (../shared/fixtures/charts/istio) into the real kube-apiserver, through the real runner. No pods run (no
 * kubelet) and nothing here waits for them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { NAMESPACE_WAIT_MS } from '../../src/clients/namespaces.js';
import { FLUX_FIX_NAME } from '../../src/istio/flux-fix.js';
import { istioStep } from '../../steps/istio.js';
import { ISTIO_CHARTS, labCluster, labContext, namespaceSettled, runStepOnce } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const env = lab();
const suffix = `${process.pid}`;
const name = `istio-${suffix}`;
const appsNs = `apps-${suffix}`;
const freshNs = `fresh-${suffix}`;
const cluster = labCluster(env, name, {
  istio: { version: '1.30.3', tags: ['prod-stable'], charts: ISTIO_CHARTS, namespaces: [appsNs, freshNs] },
});
const ns = (n: string) => ({ apiVersion: 'v1', kind: 'Namespace', name: n });
const webhook = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  name: 'istio-revision-tag-prod-stable',
};

/** An Istio object whose finalizer (no controller removes it) keeps istio-ingress and its CRD terminating. */
const hold = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  namespace: 'istio-ingress',
  name: 'hold',
};
const drCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name: 'destinationrules.networking.istio.io',
};

let home: string;
let kube: KubeClient;
let madeFluxNs = false;

/** Polls until `gone()` is true (namespace and CRD deletion finish asynchronously). */
async function until(what: string, gone: () => Promise<boolean>, ms = 60_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if (await gone()) return;
  throw new Error(`${what} still there after ${ms / 1000}s`);
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'platctl-istio-'));
  process.env.PLATCTL_HOME = home;
  kube = await labContext(env, cluster).kube();
  for (const n of ['istio-system', 'istio-ingress', 'flux-system']) await namespaceSettled(kube, n);
  // A namespace that already exists and still uses the legacy label: the step must swap it for istio.io/rev.
  await kube.create({ ...ns(appsNs), metadata: { name: appsNs, labels: { 'istio-injection': 'enabled' } } });
  // Flux "installed": its namespace (shared apiserver: created only if missing, removed only if made here).
  if (!(await kube.get(ns('flux-system')))) {
    await kube.create({ ...ns('flux-system'), metadata: { name: 'flux-system', labels: { 'platctl-test': name } } });
    madeFluxNs = true;
  }
});

afterAll(async () => {
  await kube.patch(hold, { metadata: { finalizers: null } }).catch(() => undefined);
  await istioStep.destroy(labContext(env, cluster));
  await kube.delete(ns(appsNs));
  await kube.delete(ns(freshNs));
  if (madeFluxNs) await kube.delete(ns('flux-system'));
  for (const n of ['istio-system', 'istio-ingress']) await until(n, async () => !(await kube.get(ns(n))));
  await rm(home, { recursive: true, force: true });
});

describe('istio step (lab)', () => {
  it('reports absent, with the releases and values in --dry-run changes', async () => {
    const r = await istioStep.check(labContext(env, cluster, { dryRun: true }));
    expect(r.status).toBe('absent');
    expect(r.changes).toEqual(
      expect.arrayContaining([
        '+ helm release istio-system/istio-base',
        '+ helm release istio-system/istiod-1-30-3',
        '+ helm release istio-ingress/istio-ingress',
        `~ namespace ${appsNs} label istio.io/rev=prod-stable`,
        `- namespace ${appsNs} label istio-injection`,
        `+ namespace ${freshNs} (istio.io/rev=prod-stable)`,
      ]),
    );
    expect(r.changes?.join('\n')).toMatch(
      /revision=1-30-3 revisionTags=\[prod-stable\].*holdApplicationUntilProxyStarts=true/,
    );
  });

  it('installs base, istiod-1-30-3 and the gateway; the tag webhook and namespace labels follow', async () => {
    const ctx = labContext(env, cluster);
    const report = await runStepOnce(ctx, istioStep);
    expect(report.steps[0]).toMatchObject({
      id: 'istio',
      result: 'applied',
      outputs: { revision: '1-30-3', tags: ['prod-stable'] },
    });

    const helm = ctx.exec.calls.filter((c) => c.args[0] === 'upgrade').map((c) => c.args[2]);
    expect(helm).toEqual(['istio-base', 'istiod-1-30-3', 'istio-ingress']);

    const hook = await kube.get<KubeObject & { webhooks: { clientConfig: { service: { name: string } } }[] }>(webhook);
    expect(hook?.metadata.labels).toMatchObject({ 'istio.io/tag': 'prod-stable', 'istio.io/rev': '1-30-3' });
    expect(hook?.webhooks.map((w) => w.clientConfig.service.name)).toEqual(['istiod-1-30-3', 'istiod-1-30-3']);
    const apps = await kube.get(ns(appsNs));
    expect(apps?.metadata.labels?.['istio.io/rev']).toBe('prod-stable');
    expect(apps?.metadata.labels?.['istio-injection']).toBeUndefined();
    const fresh = await kube.get(ns(freshNs));
    expect(fresh?.metadata.labels?.['istio.io/rev']).toBe('prod-stable');
    const gw = await kube.get<KubeObject & { spec: { template: { metadata: { labels: Record<string, string> } } } }>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'istio-ingress',
      name: 'istio-ingress',
    });
    expect(gw?.spec.template.metadata.labels['istio.io/rev']).toBe('prod-stable');
    const filter = await kube.get({
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      namespace: 'istio-system',
      name: FLUX_FIX_NAME,
    });
    expect(JSON.stringify(filter)).toContain('"strip_trailing_host_dot":true');
  });

  it('a re-run is up to date: no helm upgrade, no Kubernetes write', async () => {
    const ctx = labContext(env, cluster);
    const report = await runStepOnce(ctx, istioStep);
    expect(report.steps[0]).toMatchObject({ result: 'up-to-date' });
    expect(report.steps[0]?.detail).toMatch(/up to date/);
    expect(ctx.exec.helmVerbs()).not.toContain('upgrade');
    expect((await ctx.kubeClient()).counts.writes).toBe(0);
    // The runner's re-run uses the cheap check: exactly one API read and no helm at all.
    expect((await ctx.kubeClient()).counts.reads).toBe(1);
    expect(ctx.exec.calls).toHaveLength(0);
  });

  it('the deep check compares values, chart version and tags, and apply repairs drift', async () => {
    const deep = await istioStep.check(labContext(env, cluster));
    expect(deep).toMatchObject({ status: 'up-to-date' });
    // Someone relabels a namespace and edits istiod's values by hand.
    await kube.patch(ns(appsNs), { metadata: { labels: { 'istio.io/rev': '1-30-3', 'istio-injection': 'enabled' } } });
    const drift = await istioStep.check(labContext(env, cluster));
    expect(drift.status).toBe('drift');
    expect(drift.changes).toContain(`- namespace ${appsNs} label istio-injection`);
    const ctx = labContext(env, cluster);
    await istioStep.apply(ctx);
    expect(ctx.exec.helmVerbs()).not.toContain('upgrade');
    expect((await kube.get(ns(appsNs)))?.metadata.labels).toMatchObject({ 'istio.io/rev': 'prod-stable' });
    expect((await kube.get(ns(appsNs)))?.metadata.labels?.['istio-injection']).toBeUndefined();
    expect((await istioStep.check(labContext(env, cluster))).status).toBe('up-to-date');
  });

  it('destroy removes the releases, tag webhook, CRDs, labels and its namespaces; a second destroy is a no-op', async () => {
    await istioStep.destroy(labContext(env, cluster));
    expect(await kube.get(webhook)).toBeUndefined();
    const crds = await kube.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
      labelSelector: 'app.kubernetes.io/instance=istio-base',
    });
    expect(crds.filter((c) => !c.metadata.deletionTimestamp)).toEqual([]);
    expect((await kube.get(ns(appsNs)))?.metadata.labels?.['istio.io/rev']).toBeUndefined();
    // Destroy waited until the namespaces it made were gone.
    expect(await kube.get(ns('istio-system'))).toBeUndefined();
    expect(await kube.get(ns('istio-ingress'))).toBeUndefined();
    const ctx = labContext(env, cluster);
    await istioStep.destroy(ctx);
    expect(ctx.exec.helmVerbs().filter((v) => v === 'uninstall')).toHaveLength(2);
    expect((await istioStep.check(labContext(env, cluster))).status).toBe('absent');
  });

  // 30–40 s as a rule, but after a failed API discovery while CRDs come and go, the namespace controller backs off
  // for up to a minute per namespace. The bound is above the step's own (NAMESPACE_WAIT_MS), so a real stall ends
  // in its error naming what holds the namespace, not in vitest's timeout (one CI run did hit 120 s).
  it(
    'destroy waits until its namespaces are gone; apply waits out ones still being deleted',
    async () => {
      const waitLine = 'namespace istio-ingress is being deleted: waiting until it is gone';
      const holdIngress = () =>
        kube.create({
          ...hold,
          metadata: { name: hold.name, namespace: hold.namespace, finalizers: ['platctl.test/hold'] },
          spec: { host: 'example.invalid' },
        });
      // Not swallowed: a release that failed would leave the step waiting out its whole bound.
      const release = () => kube.patch(hold, { metadata: { finalizers: null } });

      expect((await runStepOnce(labContext(env, cluster), istioStep)).steps[0]?.result).toBe('applied');
      await holdIngress();
      const down = labContext(env, cluster);
      let destroyed = false;
      const destroying = istioStep.destroy(down).then(() => (destroyed = true));
      await until('the destroy waiting line', async () => down.log.lines.some((l) => l.includes(waitLine)));
      expect(destroyed).toBe(false);
      await release();
      await destroying;
      expect(await kube.get(ns('istio-ingress'))).toBeUndefined();

      expect((await runStepOnce(labContext(env, cluster), istioStep)).steps[0]?.result).toBe('applied');
      await holdIngress();
      // Stands in for a teardown killed while it waited (or a kubectl delete): istio-ingress and the
      // DestinationRule CRD are left terminating.
      await kube.delete(ns('istio-ingress'));
      await kube.delete(drCrd);
      const up = labContext(env, cluster);
      // The step's own apply (not the runner, which logs to stderr) so the test can read what it said.
      const applying = istioStep.apply(up);
      try {
        await until('the apply waiting line', async () => up.log.lines.some((l) => l.includes(waitLine)));
      } finally {
        await release();
      }
      expect(await applying).toMatchObject({ revision: '1-30-3', tags: ['prod-stable'] });
      expect((await istioStep.check(labContext(env, cluster))).status).toBe('up-to-date');
      expect((await kube.get(ns('istio-ingress')))?.metadata.deletionTimestamp).toBeUndefined();
      expect((await kube.get(drCrd))?.metadata.deletionTimestamp).toBeUndefined();
    },
    2 * NAMESPACE_WAIT_MS,
  );
});
