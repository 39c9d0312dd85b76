/**
 * `platctl istio upgrade` against the lab: real helm, the upstream 1.30.3 charts, the real kube-apiserver.
 * The lab has one chart directory, so "1.30.4" is that same chart installed as revision 1-30-4: only the
 * revision name differs (the chart version check compares with the directory's own Chart.yaml). What is
 * proved is what matters for a canary: two revisions side by side, and the tag webhook moving between them.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type KubeClient, type KubeObject, type ObjectRef, refOf } from '../../src/clients/kube.js';
import { deleteAndWait, settle, settleNamespace } from '../../src/clients/namespaces.js';
import istioUpgrade, { ISTIO_UPGRADE_PHASE } from '../../src/commands/istio-upgrade.js';
import { adoptionFiles } from '../../src/flux/adoption.js';
import { waitForCrds } from '../../src/flux/install.js';
import { parseManifests } from '../../src/flux/manifests.js';
import { JournalStore } from '../../src/state/journal.js';
import { createHelm } from '../../src/tools/helm.js';
import { istioStep } from '../../steps/istio.js';
import { FLUX_INSTALL } from '../helpers/flux-context.js';
import { labCluster, labContext, labRawCluster, namespaceSettled } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const env = lab();
const name = `upgrade-${process.pid}`;
const appsNs = `apps-${process.pid}`;
const legacyNs = `legacy-${process.pid}`;
const istio = {
  version: '1.30.3',
  tags: ['prod-stable'],
  charts: labRawCluster(env, name).istio.charts,
  namespaces: [appsNs],
};
const cluster = labCluster(env, name, { istio });
const ns = (n: string) => ({ apiVersion: 'v1', kind: 'Namespace', name: n });
const webhookRef = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  name: 'istio-revision-tag-prod-stable',
};
const serviceRef = {
  apiVersion: 'v1',
  kind: 'Service',
  namespace: 'istio-system',
  name: 'istiod-revision-tag-prod-stable',
};
type Webhook = KubeObject & { webhooks: { clientConfig: { service: { name: string } } }[] };

let dir: string;
let configFile: string;
let adopted: KubeObject[] = [];
let madeHrCrd: ObjectRef | undefined;
let madeFluxNs = false;
let kube: KubeClient;
const helm = () => createHelm(labContext(env, cluster).exec, { kubeconfig: env.kubeconfig, context: env.kubeContext });

/** Runs the command as commander would, with --config and (unless told otherwise) --yes. */
async function upgrade(flags: {
  version: string;
  tag?: string;
  rollback?: boolean;
  finish?: boolean;
  yes?: boolean;
  breakLock?: boolean;
}) {
  const opts = { config: configFile, yes: true, output: 'text', ...flags };
  const cmd = new Command('upgrade');
  for (const [k, v] of Object.entries(opts)) cmd.setOptionValue(k, v);
  return istioUpgrade(name, opts, cmd);
}

/** The upgrade's record in state (the lab cluster has no access step: state is the local journal). */
async function recorded() {
  const state = await new JournalStore(name).load();
  return { phase: state?.phases[ISTIO_UPGRADE_PHASE], history: state?.history ?? [] };
}

/** Where the tag points: label, the service its webhooks call, the owning release. */
async function tag() {
  const hook = await kube.get<Webhook>(webhookRef);
  const svc = await kube.get<KubeObject & { spec: { selector: Record<string, string> } }>(serviceRef);
  return {
    rev: hook?.metadata.labels?.['istio.io/rev'],
    calls: [...new Set(hook?.webhooks.map((w) => w.clientConfig.service.name))],
    release: hook?.metadata.annotations?.['meta.helm.sh/release-name'],
    kept: hook?.metadata.annotations?.['helm.sh/resource-policy'],
    serviceRev: svc?.spec.selector['istio.io/rev'],
  };
}

/** Polls the tag webhook while `work` runs; returns how many polls found it missing. */
async function watchGaps(work: () => Promise<unknown>) {
  let gaps = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      if (!(await kube.get(webhookRef))) gaps++;
      await sleep(20);
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await poll;
  }
  return gaps;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'platctl-istio-upgrade-'));
  process.env.PLATCTL_HOME = path.join(dir, 'home');
  configFile = path.join(dir, 'platform.yaml');
  await writeFile(configFile, stringify({ clusters: [labRawCluster(env, name, { istio })] }));
  kube = await labContext(env, cluster).kube();
  for (const n of ['istio-system', 'istio-ingress']) await namespaceSettled(kube, n);
  await kube.create({ ...ns(legacyNs), metadata: { name: legacyNs } });
  // Plays Flux's kustomize-controller after the flux step: the adoption HelmReleases from the fleet files are
  // applied to the cluster (no helm-controller runs in the lab; what matters is that platctl suspends them).
  const hrCrd = parseManifests(readFileSync(FLUX_INSTALL, 'utf8')).find(
    (o) => o.metadata.name === 'helmreleases.helm.toolkit.fluxcd.io',
  )!;
  if (!(await settle(kube, refOf(hrCrd)))) {
    await kube.create(hrCrd);
    madeHrCrd = refOf(hrCrd);
  }
  await waitForCrds(kube, [hrCrd]);
  const istioFile = adoptionFiles({ cluster, outputs: () => ({}) }).find((f) =>
    f.path.endsWith('/platform/istio.yaml'),
  )!;
  adopted = parseManifests(istioFile.content).filter((o) => o.kind === 'HelmRelease');
  if (!(await settleNamespace(kube, 'flux-system'))) {
    await kube.create({ ...ns('flux-system'), metadata: { name: 'flux-system' } });
    madeFluxNs = true;
  }
  for (const hr of adopted) await kube.apply(hr, { force: true });
  // After Flux is there, so the step's Flux trailing-dot EnvoyFilter is part of what it installs.
  await istioStep.apply(labContext(env, cluster));
}, 300_000);

afterAll(async () => {
  for (const hr of adopted) await kube.delete(refOf(hr));
  if (madeHrCrd) await deleteAndWait(kube, madeHrCrd);
  if (madeFluxNs) await deleteAndWait(kube, ns('flux-system'));
  await istioStep.destroy(labContext(env, cluster));
  await kube.delete(ns(legacyNs));
  await kube.delete(ns(appsNs));
  for (let i = 0; i < 240 && (await kube.get(ns('istio-system'))); i++) await sleep(250);
  await rm(dir, { recursive: true, force: true });
}, 300_000);

describe('platctl istio upgrade (lab)', () => {
  it('refuses the version platform.yaml already runs, and a tag it does not know', async () => {
    await expect(upgrade({ version: '1.30.3' })).rejects.toThrow(/already asks for Istio 1.30.3/);
    await expect(upgrade({ version: '1.30.4', tag: 'canary' })).rejects.toThrow(/not in istio.tags/);
    await expect(upgrade({ version: '1.30.4', rollback: true, finish: true })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('installs the new revision beside the old one; the tag stays where it was', async () => {
    expect(adopted.map((o) => o.metadata.name).sort()).toEqual(['istio-base', 'istio-ingress', 'istiod-1-30-3']);
    expect(await upgrade({ version: '1.30.4' })).toBe(0);
    // Recorded like a step: the phase's record and its history entries.
    const { phase, history } = await recorded();
    expect(phase).toMatchObject({ status: 'done', outputs: { from: '1-30-3', to: '1-30-4', action: 'install' } });
    expect(history.filter((h) => h.step === ISTIO_UPGRADE_PHASE).map((h) => `${h.action}:${h.result}`)).toEqual([
      'apply:started',
      'apply:done',
    ]);
    // Flux's HelmReleases for Istio were suspended first, so helm-controller cannot undo the canary.
    for (const hr of adopted) {
      const live = await kube.get<KubeObject & { spec: { suspend?: boolean } }>(refOf(hr));
      expect(live?.spec.suspend, hr.metadata.name).toBe(true);
    }
    const rows = await helm().list({ namespace: 'istio-system', filter: '^istiod-' });
    expect(rows.map((r) => `${r.name}:${r.status}`).sort()).toEqual([
      'istiod-1-30-3:deployed',
      'istiod-1-30-4:deployed',
    ]);
    expect(await tag()).toMatchObject({ rev: '1-30-3', calls: ['istiod-1-30-3'], serviceRev: '1-30-3' });
    expect(
      await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'istio-system', name: 'istiod-1-30-4' }),
    ).toBeDefined();
    // Meanwhile the step refuses to touch Istio: an upgrade is in progress.
    const check = await istioStep.check(labContext(env, cluster));
    expect(check).toMatchObject({
      status: 'drift',
      detail: expect.stringMatching(/upgrade is in progress: istiod-1-30-4/),
    });
    await expect(istioStep.apply(labContext(env, cluster))).rejects.toThrow(
      /istiod-1-30-4 is installed beside istiod-1-30-3/,
    );
  });

  it('without --yes and without a terminal, moving a tag asks and fails rather than guessing', async () => {
    expect(await upgrade({ version: '1.30.4', tag: 'prod-stable', yes: false })).toBe(2);
    expect((await recorded()).phase).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^cannot ask "move tag prod-stable to revision 1-30-4\?/),
    });
    expect((await tag()).rev).toBe('1-30-3');
  });

  it('waits for nobody else: a live lock stops it (exit 3) unless --break-lock', async () => {
    // Held by a process that is alive on this host (vitest's own parent).
    const lock = path.join(process.env.PLATCTL_HOME ?? '', name, 'lock');
    const holder = `someone@${os.hostname()}:${process.ppid}`;
    await writeFile(lock, JSON.stringify({ holder, acquiredAt: new Date().toISOString(), command: 'bootstrap' }));
    try {
      await expect(upgrade({ version: '1.30.4' })).rejects.toMatchObject({ code: 'LOCK_HELD' });
      expect(await upgrade({ version: '1.30.4', breakLock: true })).toBe(0);
    } finally {
      await rm(lock, { force: true });
    }
  });

  it('--tag moves the webhook to the new revision with no moment where it is missing', async () => {
    const gaps = await watchGaps(() => upgrade({ version: '1.30.4', tag: 'prod-stable' }));
    expect(gaps).toBe(0);
    expect(await tag()).toEqual({
      rev: '1-30-4',
      calls: ['istiod-1-30-4'],
      release: 'istiod-1-30-4',
      kept: undefined,
      serviceRev: '1-30-4',
    });
    expect((await helm().getValues('istiod-1-30-3', 'istio-system'))?.revisionTags).toEqual([]);
    expect((await helm().getValues('istiod-1-30-4', 'istio-system'))?.revisionTags).toEqual(['prod-stable']);
    // Idempotent: again changes nothing.
    expect(await upgrade({ version: '1.30.4', tag: 'prod-stable' })).toBe(0);
    expect((await tag()).rev).toBe('1-30-4');
  });

  it('--rollback --tag moves it back, and --tag moves it forward again', async () => {
    const gaps = await watchGaps(() => upgrade({ version: '1.30.4', tag: 'prod-stable', rollback: true }));
    expect(gaps).toBe(0);
    expect(await tag()).toMatchObject({
      rev: '1-30-3',
      calls: ['istiod-1-30-3'],
      release: 'istiod-1-30-3',
      serviceRev: '1-30-3',
    });
    await upgrade({ version: '1.30.4', tag: 'prod-stable' });
    expect((await tag()).rev).toBe('1-30-4');
  });

  it('--finish refuses while a namespace still points at the old revision, naming it', async () => {
    await kube.patch(ns(legacyNs), { metadata: { labels: { 'istio.io/rev': '1-30-3' } } });
    expect(await upgrade({ version: '1.30.4', finish: true })).toBe(1);
    expect((await recorded()).phase).toMatchObject({
      status: 'failed',
      error: `revision 1-30-3 still serves namespace ${legacyNs}`,
    });
    expect(await helm().status('istiod-1-30-3', 'istio-system')).toBeDefined();
  });

  it('--finish removes the old revision once nothing points at it; the step then wants istio.version bumped', async () => {
    await kube.patch(ns(legacyNs), { metadata: { labels: { 'istio.io/rev': null } } });
    expect(await upgrade({ version: '1.30.4', finish: true })).toBe(0);
    expect(await helm().status('istiod-1-30-3', 'istio-system')).toBeUndefined();
    expect((await helm().getValues('istio-base', 'istio-system'))?.defaultRevision).toBe('1-30-4');
    expect((await tag()).rev).toBe('1-30-4');
    expect((await kube.get(ns(appsNs)))?.metadata.labels?.['istio.io/rev']).toBe('prod-stable');
    // platform.yaml still says 1.30.3: the step refuses to reinstall it; with 1.30.4 it is up to date.
    await expect(istioStep.apply(labContext(env, cluster))).rejects.toMatchObject({
      message: 'platform.yaml asks for istiod-1-30-3, but istiod-1-30-4 is installed',
      hint: expect.stringMatching(/set istio.version: 1.30.4/),
    });
    const bumped = labCluster(env, name, { istio: { ...istio, version: '1.30.4' } });
    expect(await istioStep.check(labContext(env, bumped))).toMatchObject({ status: 'up-to-date' });
  });

  it('--rollback without --tag aborts a canary: tags go back and the new revision is removed', async () => {
    const bumped = labCluster(env, name, { istio: { ...istio, version: '1.30.4' } });
    await writeFile(
      configFile,
      stringify({ clusters: [labRawCluster(env, name, { istio: { ...istio, version: '1.30.4' } })] }),
    );
    await upgrade({ version: '1.30.5', tag: 'prod-stable' });
    expect((await tag()).rev).toBe('1-30-5');
    expect(await upgrade({ version: '1.30.5', rollback: true })).toBe(0);
    expect((await tag()).rev).toBe('1-30-4');
    expect(await helm().status('istiod-1-30-5', 'istio-system')).toBeUndefined();
    expect(await istioStep.check(labContext(env, bumped))).toMatchObject({ status: 'up-to-date' });
  });
});
