/** Bad input is refused before anything is written, each with a clear message and exit code 2. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { validateConfig } from '../../src/config/load.js';
import { ExitCode, isPlatctlError } from '../../src/errors.js';
import { DEFAULT_QUOTA, gatewayServers, TENANT_LABEL } from '../../src/tenants/manifests.js';
import type { TenantRecord } from '../../src/tenants/records.js';
import { resolveTenant } from '../../src/tenants/tenants.js';
import { assertNoConflicts, assertSpec, collectClaims, parseQuota } from '../../src/tenants/validate.js';
import { clusterConfig, rawCluster, rawPlatform } from '../helpers/config.js';
import { tenantSpec } from '../helpers/tenants.js';

/** Runs `fn`, expecting a platctl error with exit code 2 whose message matches. */
function refused(fn: () => unknown, message: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(isPlatctlError(err), String(err)).toBe(true);
    if (!isPlatctlError(err)) return;
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toMatch(message);
    return;
  }
  throw new Error(`not refused (wanted ${message})`);
}

const cluster = clusterConfig('demo');
const record = (over: Partial<TenantRecord> = {}): TenantRecord => ({
  namespaces: ['a'],
  hosts: [],
  repo: 'https://git.example.com/a.git',
  role: 'admin',
  commit: 'c0ffee',
  ...over,
});
const ns = (name: string, tenant?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: tenant ? { [TENANT_LABEL]: tenant } : {} },
});

describe('tenant input', () => {
  it.each([
    ['Team_A', /tenant name "Team_A" is not a DNS-1123 label/],
    ['-a', /tenant name "-a" is not a DNS-1123 label/],
    ['a'.repeat(64), /is not a DNS-1123 label/],
  ])('refuses tenant name %s', (name, message) => {
    refused(() => resolveTenant(cluster, name, { repo: 'https://x.example.com/r.git' }), message);
  });

  it.each([
    [{ namespace: ['Apps'] }, /namespace "Apps" is not a DNS-1123 label/],
    [{ namespace: ['kube-system'] }, /namespace kube-system is a platform namespace/],
    [{ namespace: ['flux-system'] }, /namespace flux-system is a platform namespace/],
    [{ namespace: ['vault'] }, /namespace vault is a platform namespace/],
    [{ namespace: ['x', 'x'] }, /lists a namespace twice/],
    [{ role: 'cluster-admin' }, /--role cluster-admin is refused: a tenant never gets cluster-admin/],
    [{ repo: undefined }, /tenant t has no source repository/],
    [{ repo: 'git@github.com:org/app.git' }, /is not an https:\/\/ or ssh:\/\/ URL/],
    [{ branch: 'a..b' }, /is not a git branch name/],
    [{ path: '../other' }, /must be relative to the repository root/],
    [{ host: ['Not A Host'] }, /--host "Not A Host" is not a DNS name/],
    [{ host: ['a.example.com', 'a.example.com'] }, /lists a host twice/],
    [{ quota: 'cpu=lots' }, /--quota "cpu=lots" is not cpu=<quantity>/],
    [{ quota: 'disk=5Gi' }, /--quota "disk=5Gi"/],
    [{ quota: 'pods=0' }, /--quota "pods=0"/],
  ])('refuses %o', (flags, message) => {
    refused(() => resolveTenant(cluster, 't', { repo: 'https://git.example.com/t.git', ...flags }), message);
  });

  it('flags override the platform.yaml entry, which overrides the defaults', () => {
    const raw = rawCluster('demo');
    raw.tenants = [
      {
        name: 't',
        namespaces: ['t-web'],
        repo: 'https://git.example.com/t.git',
        hosts: ['t.example.com'],
        quota: { cpu: '2', memory: '4Gi', pods: 20 },
      },
    ];
    const c = validateConfig(rawPlatform(raw), 'test').clusters[0]!;
    expect(resolveTenant(c, 't')).toEqual({
      name: 't',
      namespaces: ['t-web'],
      repo: 'https://git.example.com/t.git',
      branch: 'main',
      path: './',
      role: 'admin',
      quota: { cpu: '2', memory: '4Gi', pods: 20 },
      hosts: ['t.example.com'],
    });
    expect(
      resolveTenant(c, 't', { namespace: ['t1', 't2'], quota: 'pods=5', role: 'edit', host: ['x.example.com'] }),
    ).toMatchObject({
      namespaces: ['t1', 't2'],
      quota: { cpu: '2', memory: '4Gi', pods: 5 },
      role: 'edit',
      hosts: ['x.example.com'],
    });
    expect(resolveTenant(cluster, 'u', { repo: 'ssh://git@git.example.com/u.git' })).toMatchObject({
      namespaces: ['u'],
      quota: DEFAULT_QUOTA,
      hosts: [],
    });
  });

  it('parses quotas key by key over a base', () => {
    expect(parseQuota('cpu=500m,memory=1Gi,pods=10', DEFAULT_QUOTA)).toEqual({ cpu: '500m', memory: '1Gi', pods: 10 });
    expect(parseQuota('memory=16Gi', DEFAULT_QUOTA)).toEqual({ ...DEFAULT_QUOTA, memory: '16Gi' });
  });

  it('a valid spec passes', () => {
    expect(() => assertSpec(tenantSpec('ok', { hosts: ['*.ok.example.com'] }))).not.toThrow();
  });
});

describe('ownership conflicts (state records and the live cluster)', () => {
  it('refuses a namespace another tenant holds, by state record or by live label', () => {
    const byState = collectClaims({ a: record({ namespaces: ['shared'] }) }, []);
    refused(
      () => assertNoConflicts([tenantSpec('b', { namespaces: ['shared'] })], byState),
      /namespace shared already belongs to tenant a/,
    );
    const byLabel = collectClaims({}, [ns('shared', 'a')]);
    refused(
      () => assertNoConflicts([tenantSpec('b', { namespaces: ['shared'] })], byLabel),
      /namespace shared already belongs to tenant a/,
    );
  });

  it('refuses an existing namespace that belongs to no tenant, and a tenant named like another tenant namespace', () => {
    refused(
      () => assertNoConflicts([tenantSpec('b', { namespaces: ['legacy'] })], collectClaims({}, [ns('legacy')])),
      /namespace legacy already exists and belongs to no tenant/,
    );
    refused(
      () => assertNoConflicts([tenantSpec('a-web', { namespaces: ['b-web'] })], collectClaims({}, [ns('a-web', 'a')])),
      /tenant name a-web is already a namespace of tenant a/,
    );
  });

  it('refuses a host bound to another tenant (state or Gateway) or to an ops server', () => {
    const other = tenantSpec('a', { hosts: ['app.example.com'] });
    const gw = { name: 'istio-ingress/platform-gateway', servers: gatewayServers(other) };
    const want = [tenantSpec('b', { hosts: ['app.example.com'] })];
    refused(
      () => assertNoConflicts(want, collectClaims({ a: record({ hosts: ['app.example.com'] }) }, [])),
      /host app.example.com is already bound to tenant a/,
    );
    refused(
      () => assertNoConflicts(want, collectClaims({}, [], gw)),
      /host app.example.com is already bound to tenant a/,
    );
    const ops = {
      name: 'istio-ingress/platform-gateway',
      servers: [{ name: 'web', port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*/app.example.com'] }],
    };
    refused(
      () => assertNoConflicts(want, collectClaims({}, [], ops)),
      /already bound to server "web" of Gateway istio-ingress\/platform-gateway/,
    );
  });

  it('refuses two tenants of one batch asking for the same namespace or host', () => {
    refused(
      () =>
        assertNoConflicts(
          [tenantSpec('a', { namespaces: ['x'] }), tenantSpec('b', { namespaces: ['x'] })],
          collectClaims({}, []),
        ),
      /namespace x is asked for by both tenants a and b/,
    );
    refused(
      () =>
        assertNoConflicts(
          [tenantSpec('a', { hosts: ['h.example.com'] }), tenantSpec('b', { hosts: ['h.example.com'] })],
          collectClaims({}, []),
        ),
      /host h.example.com is asked for by both tenants a and b/,
    );
  });

  it("a tenant's own namespaces and hosts are not conflicts (a re-run)", () => {
    const a = tenantSpec('a', { hosts: ['app.example.com'] });
    const claims = collectClaims({}, [ns('a', 'a')], { name: 'gw', servers: gatewayServers(a) });
    expect(() => assertNoConflicts([a], claims)).not.toThrow();
  });
});
