/** A tenant's own read-only git credentials (unit: a fake API server, ssh-keyscan faked behind exec). */
import { describe, expect, it } from 'vitest';
import type { Exec } from '../../src/clients/exec.js';
import type { KubeObject } from '../../src/clients/kube.js';
import { DEPLOY_KEY_LABEL, ensureTenantKeys } from '../../src/tenants/keys.js';
import { DEFAULT_QUOTA, type TenantSpec, tenantManifests } from '../../src/tenants/manifests.js';
import { clusterConfig } from '../helpers/config.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { fluxContext } from '../helpers/flux-context.js';

const spec = (name: string, over: Partial<TenantSpec> = {}): TenantSpec => ({
  name,
  namespaces: [name, `${name}-jobs`],
  repo: `ssh://git@git.example.com:2222/${name}/apps.git`,
  branch: 'main',
  path: './',
  role: 'admin',
  quota: { ...DEFAULT_QUOTA },
  hosts: [],
  ...over,
});
const env = { revisionTag: 'prod-stable', issuer: { kind: 'ClusterIssuer' as const, name: 'letsencrypt' } };
const namespaceOf = (s: TenantSpec) => tenantManifests(s, env).namespaces[0]!;

function setup(opts: { dryRun?: boolean } = {}) {
  const kube = createFakeKube();
  const scans: string[] = [];
  const exec: Exec = {
    run: async (file, args) => {
      scans.push([file, ...args].join(' '));
      return { exitCode: 0, stdout: '[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost\n', stderr: '' };
    },
  };
  const { ctx, log } = fluxContext(clusterConfig('demo'), { kube, exec });
  return { kube, scans, log, ctx: { ...ctx, dryRun: opts.dryRun ?? false } };
}

const secretRef = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name });

describe('tenant deploy keys', () => {
  it('an ssh tenant gets its own key in its first namespace (made if missing), never in the fleet or the log', async () => {
    const { kube, scans, ctx, log } = setup();
    const [a, b] = [spec('team-a'), spec('team-b')];
    const keys = await ensureTenantKeys(ctx, [a, b], namespaceOf);
    expect(keys.map((k) => [k.tenant, k.secret, k.created])).toEqual([
      ['team-a', 'team-a/team-a-deploy-key', true],
      ['team-b', 'team-b/team-b-deploy-key', true],
    ]);
    // One scan per host, however many tenants use it.
    expect(scans).toEqual(['ssh-keyscan -T 10 -p 2222 git.example.com']);
    const secret = kube.peek<KubeObject & { data: Record<string, string> }>(secretRef('team-a', 'team-a-deploy-key'));
    const data = (k: string) => Buffer.from(secret?.data[k] ?? '', 'base64').toString('utf8');
    expect(secret?.metadata.labels).toMatchObject({
      [DEPLOY_KEY_LABEL]: 'team-a',
      'toolkit.fluxcd.io/tenant': 'team-a',
    });
    expect(data('identity')).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    expect(data('identity.pub').trim()).toBe(keys[0]?.publicKey);
    expect(data('known_hosts')).toContain('[git.example.com]:2222 ssh-ed25519');
    expect(keys[0]?.publicKey).toMatch(/^ssh-ed25519 \S+ platctl-demo-tenant-team-a$/);
    expect(keys[0]?.publicKey).not.toBe(keys[1]?.publicKey);
    // The namespace is made with the tenant's labels, as Flux will apply it.
    expect(kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: 'team-a' })?.metadata.labels).toMatchObject(
      namespaceOf(a).metadata.labels ?? {},
    );
    expect(log.lines.join('\n')).not.toMatch(/PRIVATE KEY/);
  });

  it('a re-run finds the keys with one list and writes nothing; a dry run writes nothing', async () => {
    const { kube, ctx } = setup();
    const first = await ensureTenantKeys(ctx, [spec('team-a')], namespaceOf);
    const calls = kube.calls.length;
    const again = await ensureTenantKeys(ctx, [spec('team-a')], namespaceOf);
    expect(again).toEqual([{ ...first[0], created: false }]);
    expect(kube.calls.slice(calls).map((c) => c.verb)).toEqual(['list']);

    const dry = setup({ dryRun: true });
    const planned = await ensureTenantKeys(dry.ctx, [spec('team-b')], namespaceOf);
    expect(planned).toEqual([
      { tenant: 'team-b', secret: 'team-b/team-b-deploy-key', repo: spec('team-b').repo, created: true },
    ]);
    expect(dry.kube.calls.filter((c) => c.verb !== 'get' && c.verb !== 'list')).toEqual([]);
  });

  it("with the batch's namespace list: a listed namespace costs no request, a missing one is created at once", async () => {
    const { kube, ctx } = setup();
    const listed = kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await ensureTenantKeys(ctx, [spec('team-a'), spec('team-b')], namespaceOf, { namespaces: [listed] });
    expect(kube.calls.map((c) => `${c.verb} ${c.key.split('|')[1]} ${c.key.split('|')[3]}`).sort()).toEqual([
      'create Namespace team-b',
      'create Secret team-a-deploy-key',
      'create Secret team-b-deploy-key',
      'list Secret *',
    ]);
  });

  it('a namespace missing from the list but made meanwhile: the create conflicts, it is looked at, and kept', async () => {
    const { kube, ctx } = setup();
    kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { mine: 'yes' } } });
    const keys = await ensureTenantKeys(ctx, [spec('team-a')], namespaceOf, { namespaces: [] });
    expect(keys.map((k) => k.created)).toEqual([true]);
    expect(kube.calls.map((c) => `${c.verb} ${c.key.split('|')[1]}`)).toEqual([
      'list Secret',
      'create Namespace',
      'get Namespace',
      'create Secret',
    ]);
    expect(kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: 'team-a' })?.metadata.labels).toEqual({
      mine: 'yes',
    });
  });

  it('https repositories and tenants with their own secretRef get no key', async () => {
    const { kube, ctx, scans } = setup();
    const keys = await ensureTenantKeys(
      ctx,
      [spec('team-a', { repo: 'https://git.example.com/a.git' }), spec('team-b', { secretRef: 'team-b-token' })],
      namespaceOf,
    );
    expect(keys).toEqual([]);
    expect(kube.calls).toEqual([]);
    expect(scans).toEqual([]);
  });

  it('the GitRepository names the tenant key, the team Secret, or none', () => {
    const sourceOf = (s: TenantSpec) => tenantManifests(s, env).sync[0]?.spec as { secretRef?: { name: string } };
    expect(sourceOf(spec('team-a')).secretRef).toEqual({ name: 'team-a-deploy-key' });
    expect(sourceOf(spec('team-a', { secretRef: 'mine' })).secretRef).toEqual({ name: 'mine' });
    expect(sourceOf(spec('team-a', { repo: 'https://git.example.com/a.git' })).secretRef).toBeUndefined();
  });
});
