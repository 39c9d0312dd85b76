/**
 * The pretend controller writes status that real clients (kubectl wait on Flux objects) accept. This file uses
 * pretend-controller.ts, which stands in for Flux's controllers.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { FIXTURES } from './config.js';
import { lab, labProcessEnv } from './env.js';
import { PretendController } from './pretend-controller.js';

const env = lab();
const ns = `pretend-${Date.now()}`;
const kubectl = (args: string[], input?: string) =>
  execa(env.bins.kubectl, args, { env: labProcessEnv(env), input, reject: false });
const pretend = PretendController.forLab(env);
let tmp: string;
let fluxCrdsApplied: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'platctl-lab-pretend-'));
  expect((await kubectl(['create', 'namespace', ns])).exitCode).toBe(0);
});
afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=true']);
  if (fluxCrdsApplied.length) await kubectl(['delete', 'crd', ...fluxCrdsApplied, '--wait=true']);
  await rm(tmp, { recursive: true, force: true });
});

describe('flux objects', () => {
  it('a GitRepository and a Kustomization become Ready at a revision', async () => {
    const docs = parseAllDocuments(await readFile(join(FIXTURES, 'flux', 'install.yaml'), 'utf8')).map((d) =>
      d.toJSON(),
    ) as { kind?: string; metadata?: { name?: string } }[];
    const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
    const existing = await kubectl(['get', 'crd', '-o', 'name']);
    fluxCrdsApplied = crds
      .map((c) => c.metadata?.name ?? '')
      .filter((n) => !existing.stdout.includes(`customresourcedefinition.apiextensions.k8s.io/${n}`));
    const apply = await kubectl(
      ['apply', '--server-side', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crds }),
    );
    expect(apply.exitCode, apply.stderr).toBe(0);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      ...crds.map((c) => `crd/${c.metadata?.name}`),
    ]);

    const objects = [
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        metadata: { name: 'fleet', namespace: ns },
        spec: { url: env.fleetUrl, interval: '1m', ref: { branch: 'main' } },
      },
      {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'fleet', namespace: ns },
        spec: { interval: '1m', path: './', prune: true, sourceRef: { kind: 'GitRepository', name: 'fleet' } },
      },
    ];
    const created = await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    );
    expect(created.exitCode, created.stderr).toBe(0);

    const revision = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
    const git = { group: 'source.toolkit.fluxcd.io', version: 'v1', plural: 'gitrepositories', namespace: ns };
    const ks = { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations', namespace: ns };
    await pretend.setFluxReady({ ...git, name: 'fleet' }, { revision });
    await pretend.setFluxReady({ ...ks, name: 'fleet' }, { revision });

    const wait = await kubectl([
      '-n',
      ns,
      'wait',
      '--for=condition=Ready',
      '--timeout=10s',
      'gitrepository/fleet',
      'kustomization/fleet',
    ]);
    expect(wait.exitCode, wait.stderr).toBe(0);
    const applied = await kubectl([
      '-n',
      ns,
      'get',
      'kustomization',
      'fleet',
      '-o',
      'jsonpath={.status.lastAppliedRevision}',
    ]);
    expect(applied.stdout).toBe(revision);
    const artifact = await kubectl([
      '-n',
      ns,
      'get',
      'gitrepository',
      'fleet',
      '-o',
      'jsonpath={.status.artifact.revision}',
    ]);
    expect(artifact.stdout).toBe(revision);

    await pretend.setFluxReady({ ...ks, name: 'fleet' }, { ready: false, message: 'kustomize build failed' });
    const status = await kubectl([
      '-n',
      ns,
      'get',
      'kustomization',
      'fleet',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    expect(status.stdout).toBe('False');
  });
});
