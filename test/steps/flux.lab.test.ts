/**
 * Step flux against the lab: the real kube-apiserver (CRDs, server-side apply), the fixture install.yaml, the
 * fleet repo over the lab's real sshd (pushed with the operator's own key, GIT_SSH_COMMAND), and the REAL Flux
 * controllers, which the lab runs while their Deployments exist (test/lab/flux-host.ts): source-controller
 * clones the fleet repo over ssh with the deploy key from Secret flux-system/flux-system, kustomize-controller
 * applies ./clusters/<name>. The deploy key is added read-only on the git server by the test (PLAYED: the git
 * host's admin). helm-controller is held down in this file: the releases it would adopt were never installed
 * here. The failure and timeout paths of the wait are in flux-failures.lab.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/clients/kube.js';
import { parseManifests } from '../../src/flux/manifests.js';
import { syncRefs } from '../../src/flux/wait.js';
import { baseOf } from '../../src/runner/context.js';
import { runBootstrap } from '../../src/runner/pipeline.js';
import { StateSession } from '../../src/runner/session.js';
import { createFluxStep } from '../../steps/flux.js';
import {
  countingKube,
  FLUX_INSTALL,
  fleetFile,
  fleetGit,
  fleetHead,
  fluxContext,
  fluxLabSession,
  fluxStatus,
  interceptExec,
  labCluster,
  labKube,
  pushAsOperator,
  seedDeployKey,
  seedPlatformVars,
  uniqueName,
  waitFluxNamespaceSettled,
} from '../helpers/flux-context.js';
import { lab } from '../lab/env.js';
import { holdFluxControllers, releaseFluxControllers } from '../lab/flux-host.js';
import { revokeKey } from '../lab/git-ssh.js';

const env = lab();
const kube = await labKube(env);
const step = createFluxStep({ pollMs: 200 });
const MIRROR = 'mirror.lab.invalid/platform';
const nameA = uniqueName('fluxa');
const clusterA = labCluster(env, nameA, { images: { mirror: MIRROR } });
const [gitRef, ksRef] = syncRefs();
const session = fluxLabSession(env, 'platctl-flux-');
let pushedA: string;
let deployKey: string | undefined;

async function openState(cluster: string) {
  return StateSession.open({
    cluster,
    log: fluxContext(clusterA, { kube }).log,
    command: 'bootstrap',
    kube: async () => kube,
    lock: false,
  });
}

beforeAll(async () => {
  await session.enter(kube);
  await holdFluxControllers(['helm-controller']);
  deployKey = await seedDeployKey(env, kube, clusterA);
  await seedPlatformVars(kube, clusterA);
});
afterAll(async () => {
  try {
    await step.destroy(fluxContext(clusterA, { kube }).ctx);
    if (deployKey) await revokeKey(deployKey);
  } finally {
    await releaseFluxControllers();
    await session.leave();
  }
});

describe('flux step', () => {
  it('bootstraps: installs Flux locked down and mirrored, pushes the fleet files, the real controllers sync the push', async () => {
    const before = await fleetHead(env);
    const { session } = await openState(nameA);
    const { ctx } = fluxContext(clusterA, { kube });
    const { report } = await runBootstrap({
      steps: [step],
      base: baseOf(ctx),
      session,
      tty: false,
    });
    expect(report.ok, JSON.stringify(report.error)).toBe(true);
    pushedA = await fleetHead(env);
    expect(pushedA).not.toBe(before);
    const rev = `main@sha1:${pushedA}`;
    expect(report.steps[0]).toMatchObject({ result: 'applied', outputs: { revision: rev, path: `clusters/${nameA}` } });
    // source-controller fetched that commit over ssh and serves it on loopback; kustomize-controller applied it.
    const status = await fluxStatus(kube);
    expect(status.git?.artifact?.revision).toBe(rev);
    expect(status.git?.artifact?.url).toMatch(new RegExp(`^${env.sourceStorageUrl}/gitrepository/flux-system/`));
    expect(status.ks?.lastAppliedRevision).toBe(rev);
    expect(status.ks?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });

    // Install objects in the apiserver: every CRD Established, controllers mirrored and locked down.
    const fixture = parseManifests(await readFile(FLUX_INSTALL, 'utf8'));
    for (const crd of fixture.filter((o) => o.kind === 'CustomResourceDefinition')) {
      const live = (await kube.get({
        apiVersion: crd.apiVersion,
        kind: crd.kind,
        name: crd.metadata.name,
      })) as KubeObject & {
        status?: { conditions?: { type: string; status: string }[] };
      };
      expect(live?.status?.conditions?.find((c) => c.type === 'Established')?.status, crd.metadata.name).toBe('True');
    }
    const container = async (name: string) => {
      const d = (await kube.get({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: 'flux-system',
        name,
      })) as KubeObject & {
        spec: { template: { spec: { containers: { image: string; args: string[] }[] } } };
      };
      return d.spec.template.spec.containers[0]!;
    };
    const kc = await container('kustomize-controller');
    expect(kc.image).toBe(`${MIRROR}/fluxcd/kustomize-controller:v1.9.4`);
    expect(kc.args).toEqual(
      expect.arrayContaining([
        '--no-cross-namespace-refs=true',
        '--default-service-account=default',
        '--no-remote-bases=true',
      ]),
    );
    const hc = await container('helm-controller');
    expect(hc.args).toEqual(
      expect.arrayContaining(['--no-cross-namespace-refs=true', '--default-service-account=default']),
    );
    expect(hc.args).not.toContain('--no-remote-bases=true');
    expect((await container('notification-controller')).args).toContain('--no-cross-namespace-refs=true');
    const sc = await container('source-controller');
    expect(sc.image).toBe(`${MIRROR}/fluxcd/source-controller:v1.9.4`);
    expect(sc.args.filter((a) => a.startsWith('--no-cross') || a.startsWith('--default-service'))).toEqual([]);

    // The fleet repo over ssh holds the cluster's files at the pushed commit.
    const dir = `clusters/${nameA}/flux-system`;
    const sync = parseAllDocuments((await fleetFile(env, pushedA, `${dir}/gotk-sync.yaml`)) ?? '').map((d) => d.toJS());
    expect(sync[0]).toMatchObject({
      kind: 'GitRepository',
      spec: { url: env.fleetUrl, secretRef: { name: 'flux-system' }, ref: { branch: 'main' } },
    });
    expect(sync[1]).toMatchObject({
      kind: 'Kustomization',
      spec: { prune: true, path: `./clusters/${nameA}`, serviceAccountName: 'kustomize-controller' },
    });
    const components = (await fleetFile(env, pushedA, `${dir}/gotk-components.yaml`)) ?? '';
    expect(components).toContain(`image: ${MIRROR}/fluxcd/helm-controller:v1.6.3`);
    const kustomization = (await fleetFile(env, pushedA, `${dir}/kustomization.yaml`)) ?? '';
    expect(kustomization).toMatch(/^# platctl:managed sha256=[0-9a-f]{64}/);
    expect(parse(kustomization)).toMatchObject({ resources: ['gotk-components.yaml', 'gotk-sync.yaml'] });
    for (const f of ['sources', 'istio', 'vault']) {
      expect(await fleetFile(env, pushedA, `clusters/${nameA}/platform/${f}.yaml`), f).toContain('kind: Helm');
    }
    // And the same objects in the cluster.
    expect(await kube.get(gitRef!)).toMatchObject({ spec: { url: env.fleetUrl, secretRef: { name: 'flux-system' } } });
    expect(await kube.get(ksRef!)).toMatchObject({
      spec: { prune: true, path: `./clusters/${nameA}`, serviceAccountName: 'kustomize-controller' },
    });
    await session.close();
  });

  it('the adoption manifests are applied by the real kustomize-controller, their charts fetched from loopback', async () => {
    const docs = ['sources', 'istio', 'vault'].map(async (f) =>
      parseManifests((await fleetFile(env, pushedA, `clusters/${nameA}/platform/${f}.yaml`)) ?? ''),
    );
    const objects = (await Promise.all(docs)).flat();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'HelmRelease/istio-base',
      'HelmRelease/istio-ingress',
      'HelmRelease/istiod-1-30-3',
      'HelmRelease/vault',
      'HelmRepository/hashicorp',
      'HelmRepository/istio',
    ]);
    type Live = KubeObject & {
      spec?: { url?: string };
      metadata: { managedFields?: { manager?: string }[] };
      status?: { conditions?: { type: string; status: string; message?: string }[]; artifact?: { url?: string } };
    };
    for (const o of objects) {
      const live = await kube.get<Live>({
        apiVersion: o.apiVersion,
        kind: o.kind,
        namespace: 'flux-system',
        name: o.metadata.name,
      });
      expect(
        live?.metadata.managedFields?.map((f) => f.manager),
        o.metadata.name,
      ).toContain('kustomize-controller');
    }
    // source-controller fetched each chart repository's index from the lab's loopback chart server.
    for (const name of ['istio', 'hashicorp']) {
      let repo: Live | undefined;
      for (let i = 0; i < 150; i++) {
        repo = await kube.get<Live>({
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          kind: 'HelmRepository',
          namespace: 'flux-system',
          name,
        });
        // Ready=True was once read with no artifact yet (a warm CI run of 56b84d0): wait for both.
        const ready = repo?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready && repo?.status?.artifact?.url) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(repo?.spec?.url, name).toMatch(new RegExp(`^${env.chartsUrl}/`));
      expect(
        repo?.status?.conditions?.find((c) => c.type === 'Ready'),
        name,
      ).toMatchObject({ status: 'True' });
      expect(repo?.status?.artifact?.url, name).toMatch(new RegExp(`^${env.sourceStorageUrl}/helmrepository/`));
    }
  });

  it('a re-run makes no commit, no write, one read, and is up to date (also with --verify)', async () => {
    const head = await fleetHead(env);
    for (const verify of [false, true]) {
      const { session } = await openState(nameA);
      const counted = countingKube(kube);
      const { ctx } = fluxContext(clusterA, { kube: counted.kube });
      const { report } = await runBootstrap({
        steps: [step],
        base: baseOf(ctx),
        session,
        verify,
        tty: false,
      });
      await session.close();
      expect(report.steps[0]?.result, `verify=${verify}: ${report.steps[0]?.detail}`).toBe('up-to-date');
      expect(report.steps[0]?.detail).toContain('up to date');
      expect(counted.counts.writes).toBe(0);
      if (!verify) expect(counted.counts.reads).toBe(1);
      expect(await fleetHead(env)).toBe(head);
    }
  });

  it('apply with nothing to change makes no commit', async () => {
    const head = await fleetHead(env);
    const { ctx, log } = fluxContext(clusterA, { kube });
    const out = await step.apply(ctx);
    expect(out).toEqual({ revision: `main@sha1:${head}`, path: `clusters/${nameA}` });
    expect(await fleetHead(env)).toBe(head);
    expect(log.lines.join('\n')).toContain('no commit');
  });

  it('a second cluster gets its own path, and a push that lost a race is retried from a fresh clone', async () => {
    const nameB = uniqueName('fluxb');
    const clusterB = labCluster(env, nameB);
    let raced = false;
    // Plays a concurrent writer: just before platctl's first push, someone else pushes to main.
    const exec = interceptExec(async (file, args) => {
      if (file === 'git' && args[0] === 'push' && !raced) {
        raced = true;
        await pushAsOperator(env, { [`clusters/${nameB}/notes.md`]: 'concurrent\n' }, 'concurrent commit');
      }
    });
    const { ctx, log } = fluxContext(clusterB, { kube, exec });
    const out = await step.apply(ctx);
    expect(raced).toBe(true);
    expect(log.lines.join('\n')).toMatch(/lost a race/);
    const head = await fleetHead(env);
    expect(out).toEqual({ revision: `main@sha1:${head}`, path: `clusters/${nameB}` });
    expect(await fleetGit(env, ['log', '--format=%s', '-3', head])).toContain('concurrent commit');
    expect(await fleetFile(env, head, `clusters/${nameB}/notes.md`)).toBe('concurrent');
    const syncB = parseAllDocuments(
      (await fleetFile(env, head, `clusters/${nameB}/flux-system/gotk-sync.yaml`)) ?? '',
    ).map((d) => d.toJS());
    expect(syncB[1]).toMatchObject({ spec: { path: `./clusters/${nameB}` } });
    expect((await fluxStatus(kube)).ks?.lastAppliedRevision).toBe(`main@sha1:${head}`);
    // Cluster A's folder is untouched.
    expect(await fleetGit(env, ['diff', '--stat', pushedA, head, '--', `clusters/${nameA}`])).toBe('');
  });

  it('destroy suspends and deletes the sync objects, removes Flux and leaves the fleet repo alone', async () => {
    const head = await fleetHead(env);
    const { ctx } = fluxContext(clusterA, { kube });
    await step.destroy(ctx);
    expect(await kube.get(ksRef!)).toBeUndefined();
    const crd = await kube.get({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'kustomizations.kustomize.toolkit.fluxcd.io',
    });
    expect(crd === undefined || Boolean(crd.metadata.deletionTimestamp)).toBe(true);
    expect(
      await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'crd-controller' }),
    ).toBeUndefined();
    const ns = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'flux-system' });
    expect(ns === undefined || Boolean(ns.metadata.deletionTimestamp)).toBe(true);
    expect(await fleetHead(env)).toBe(head);
    await waitFluxNamespaceSettled(kube);
    await step.destroy(ctx);
    expect((await step.check(fluxContext(clusterA, { kube, deep: false }).ctx)).status).toBe('absent');
  });
});
