/**
 * Flux install manifests: read from a file or over HTTP (a server on loopback), mirrored, and locked down.
 * That kustomize builds the lockdown into exactly what platctl applies is proved in manifests.lab.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import {
  applyLockdown,
  fluxPatches,
  parseManifests,
  readInstallManifests,
  releaseManifestsUrl,
  rewriteImages,
} from '../../src/flux/manifests.js';
import { clusterConfig } from '../helpers/config.js';
import { FLUX_INSTALL } from '../helpers/flux-context.js';

type Dep = KubeObject & { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } };
const fixture = await readFile(FLUX_INSTALL, 'utf8');
/** The fixture parsed once (6,000 lines of YAML); each test that edits objects gets its own deep copy. */
let parsed: KubeObject[] | undefined;
function fixtureObjects(): KubeObject[] {
  parsed ??= parseManifests(fixture);
  return structuredClone(parsed);
}
const container = (objs: KubeObject[], name: string) =>
  (objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as Dep).spec.template.spec.containers[0]!;

let server: Server;
let base: string;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-manifests-'));
  server = createServer((req, res) => {
    if (req.url === '/v2.9.4/install.yaml') res.end(fixture);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

describe('reading install.yaml', () => {
  it('defaults to the pinned release asset', () => {
    expect(releaseManifestsUrl('v2.9.4')).toBe('https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml');
    expect(clusterConfig('x').flux.manifests).toBeUndefined();
  });

  it('fetches a URL, reads a path, and names the source when either fails', async () => {
    expect(await readInstallManifests(`${base}/v2.9.4/install.yaml`)).toBe(fixture);
    expect(await readInstallManifests(FLUX_INSTALL)).toBe(fixture);
    await expect(readInstallManifests(`${base}/v0.0.0/install.yaml`)).rejects.toThrow(
      /v0\.0\.0\/install\.yaml: HTTP 404/,
    );
    await expect(readInstallManifests(path.join(tmp, 'nope.yaml'))).rejects.toThrow(/nope\.yaml/);
  });

  it('parses the fixture: the namespace, 11 CRDs and the four controllers', () => {
    const objs = parseManifests(fixture);
    expect(objs.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(11);
    expect(
      objs
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['helm-controller', 'kustomize-controller', 'notification-controller', 'source-controller']);
  });
});

describe('images and lockdown', () => {
  it('rewrites every controller image to the mirror, and nothing without one', () => {
    const objs = fixtureObjects();
    rewriteImages(objs, undefined);
    expect(container(objs, 'source-controller').image).toBe('ghcr.io/fluxcd/source-controller:v1.9.4');
    rewriteImages(objs, 'registry.internal:5000/mirror/');
    expect(container(objs, 'source-controller').image).toBe(
      'registry.internal:5000/mirror/fluxcd/source-controller:v1.9.4',
    );
  });

  it('adds the lockdown flags to the controllers that support them, in kustomize order', () => {
    const objs = fixtureObjects();
    const original = [...container(objs, 'kustomize-controller').args];
    applyLockdown(objs);
    expect(container(objs, 'kustomize-controller').args).toEqual([
      '--default-service-account=default',
      '--no-cross-namespace-refs=true',
      ...original,
      '--no-remote-bases=true',
    ]);
    expect(container(objs, 'helm-controller').args.slice(0, 2)).toEqual([
      '--default-service-account=default',
      '--no-cross-namespace-refs=true',
    ]);
    expect(container(objs, 'notification-controller').args[0]).toBe('--no-cross-namespace-refs=true');
    expect(container(objs, 'source-controller').args.some((a) => a.startsWith('--no-'))).toBe(false);
  });

  it('adds the scaling flags (flux.concurrent) to source-, kustomize- and helm-controller, after their own', () => {
    const objs = fixtureObjects();
    const original = [...container(objs, 'source-controller').args];
    const cluster = clusterConfig('scale');
    applyLockdown(objs, fluxPatches({ flux: { ...cluster.flux, manifests: FLUX_INSTALL, concurrent: 7 } }));
    expect(container(objs, 'source-controller').args).toEqual([
      ...original,
      '--concurrent=7',
      '--requeue-dependency=5s',
    ]);
    for (const name of ['kustomize-controller', 'helm-controller'])
      expect(container(objs, name).args.slice(-2), name).toEqual(['--concurrent=7', '--requeue-dependency=5s']);
    expect(container(objs, 'notification-controller').args.some((a) => a.startsWith('--concurrent'))).toBe(false);
  });
});
