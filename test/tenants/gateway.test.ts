/**
 * Gateway binding and the live diff's comparison rules. Unit tests with the in-memory kube fake (it keeps the
 * API server's resourceVersion rules: a stale replace fails 409); the lab tests prove the same on the real one.
 */
import { describe, expect, it } from 'vitest';
import { bindGateway, type GatewayObject, rebind } from '../../src/tenants/gateway.js';
import { covers, sameJson } from '../../src/tenants/live.js';
import { type GatewayServer, gatewayServers } from '../../src/tenants/manifests.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { tenantSpec } from '../helpers/tenants.js';

const ref = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'Gateway',
  namespace: 'istio-ingress',
  name: 'platform-gateway',
};
const ops: GatewayServer = {
  name: 'ops',
  port: { number: 80, name: 'http', protocol: 'HTTP' },
  hosts: ['*/ops.example.com'],
};
const a = gatewayServers(tenantSpec('a', { hosts: ['a.example.com'] }));
const b = gatewayServers(tenantSpec('b', { hosts: ['b.example.com', 'b2.example.com'] }));

function seeded(servers: GatewayServer[]) {
  const kube = createFakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-ingress' } });
  kube.seed({
    ...ref,
    metadata: { name: ref.name, namespace: ref.namespace },
    spec: { selector: { istio: 'ingress' }, servers },
  });
  const servers_ = () => kube.peek<GatewayObject>(ref)?.spec?.servers ?? [];
  return { kube, servers: servers_ };
}

describe('rebind', () => {
  it("replaces only the tenant's entries, in place, and reports no change when they already match", () => {
    const current = [ops, ...a, ...b];
    expect(rebind(current, new Map([['a', a]]))).toBeUndefined();
    const a2 = gatewayServers(tenantSpec('a', { hosts: ['a.example.com', 'a2.example.com'] }));
    expect(rebind(current, new Map([['a', a2]]))).toEqual([ops, ...a2, ...b]);
    expect(rebind(current, new Map([['a', []]]))).toEqual([ops, ...b]);
    expect(rebind([ops], new Map([['b', b]]))).toEqual([ops, ...b]);
  });

  it('compares regardless of key order (the API server returns keys sorted)', () => {
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const reordered = reverse(a) as GatewayServer[];
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(a));
    expect(rebind([ops, ...reordered], new Map([['a', a]]))).toBeUndefined();
  });
});

describe('bindGateway', () => {
  it('adds, then is a no-op (no write), then removes only that tenant', async () => {
    const { kube, servers } = seeded([ops, ...b]);
    expect(await bindGateway(kube, ref, new Map([['a', a]]))).toBe(true);
    expect(servers()).toEqual([ops, ...b, ...a]);
    const writes = () => kube.calls.filter((c) => c.verb !== 'get' && c.verb !== 'list').length;
    const before = writes();
    expect(await bindGateway(kube, ref, new Map([['a', a]]))).toBe(false);
    expect(writes()).toBe(before);
    expect(await bindGateway(kube, ref, new Map([['a', []]]))).toBe(true);
    expect(servers()).toEqual([ops, ...b]);
  });

  it('a concurrent writer in between: re-reads and keeps both changes', async () => {
    const { kube, servers } = seeded([ops]);
    let raced = false;
    kube.beforeWrite = (verb) => {
      if (verb !== 'replace' || raced) return;
      raced = true;
      const gw = kube.peek<GatewayObject>(ref)!;
      kube.seed({ ...gw, spec: { ...gw.spec, servers: [...(gw.spec?.servers ?? []), ...b] } });
    };
    expect(await bindGateway(kube, ref, new Map([['a', a]]))).toBe(true);
    expect(servers()).toEqual([ops, ...b, ...a]);
  });

  it('a missing Gateway fails only when a tenant needs a server on it', async () => {
    const kube = createFakeKube();
    expect(await bindGateway(kube, ref, new Map([['a', []]]))).toBe(false);
    await expect(bindGateway(kube, ref, new Map([['a', a]]))).rejects.toThrow(
      /Gateway istio-ingress\/platform-gateway not found: tenant a has hosts to bind to it/,
    );
  });

  it('a dry run reports the change without writing', async () => {
    const { kube, servers } = seeded([ops]);
    expect(await bindGateway(kube, ref, new Map([['a', a]]), { dryRun: true })).toBe(true);
    expect(servers()).toEqual([ops]);
  });
});

describe('live comparison', () => {
  it('covers: live may hold more, never less or different; quantities compare by value', () => {
    expect(covers({ a: 1, b: { c: 'x', d: 2 } }, { b: { c: 'x' } })).toBe(true);
    expect(covers({ a: 1 }, { a: 2 })).toBe(false);
    expect(covers({ l: [1, 2] }, { l: [1] })).toBe(false);
    expect(covers({ l: [{ p: 53, protocol: 'UDP' }] }, { l: [{ p: 53 }] })).toBe(true);
    expect(covers(undefined, { a: 1 })).toBe(false);
    expect(covers({ hard: { memory: '1Gi', cpu: '500m' } }, { hard: { memory: '1024Mi', cpu: '0.5' } })).toBe(true);
    expect(covers({ hard: { memory: '1Gi' } }, { hard: { memory: '1G' } })).toBe(false);
    expect(covers({ name: 'a' }, { name: 'b' })).toBe(false);
  });

  it('sameJson ignores key order only', () => {
    expect(sameJson({ a: 1, b: [{ x: 1, y: 2 }] }, { b: [{ y: 2, x: 1 }], a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});
