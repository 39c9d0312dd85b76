/**
 * Flux install manifests, the lab part: the lockdown written to kustomization.yaml is built by real kustomize
 * (the lab's kubectl kustomize) into exactly what platctl applies. Reading and rewriting are in manifests.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { fluxSystemFiles, isPristine, withMarker } from '../../src/flux/fleet.js';
import { loadInstallSet, parseManifests } from '../../src/flux/manifests.js';
import { labCluster } from '../helpers/flux-context.js';
import { lab } from '../lab/env.js';

type Dep = KubeObject & { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } };
const env = lab();
const container = (objs: KubeObject[], name: string) =>
  (objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as Dep).spec.template.spec.containers[0]!;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-manifests-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('the lockdown, built by kustomize', () => {
  it('kustomization.yaml built by real kustomize gives exactly the controllers platctl applies', async () => {
    const cluster = labCluster(env, 'kz', { images: { mirror: 'mirror.example/m' } });
    const set = await loadInstallSet(cluster);
    expect(set.first.every((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition')).toBe(true);
    const files = fluxSystemFiles(cluster, set.components);
    const dir = path.join(tmp, 'kz');
    await execa('mkdir', ['-p', dir]);
    for (const f of files) {
      await writeFile(path.join(dir, path.basename(f.path)), f.editable ? withMarker(f.content) : f.content);
    }
    expect(isPristine(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8'))).toBe(true);
    const built = parseManifests((await execa(env.bins.kubectl, ['kustomize', dir])).stdout);
    for (const name of ['helm-controller', 'kustomize-controller', 'notification-controller', 'source-controller']) {
      expect(container(built, name), name).toEqual(container(set.rest, name));
    }
    const ks = built.find((o) => o.kind === 'Kustomization') as KubeObject & { spec: Record<string, unknown> };
    expect(ks.spec).toMatchObject({ serviceAccountName: 'kustomize-controller', prune: true, path: './clusters/kz' });
  });
});
