/**
 * Helpers for the tenant tests against the lab: a tenant spec, an in-memory state store that counts writes,
 * the CRDs and ops Gateway a tenant needs (Istio's Gateway CRD from the upstream istio/base chart, Flux's
 * GitRepository and Kustomization CRDs from the upstream install.yaml — created only when absent and removed
 * afterwards only when this file created them), SubjectAccessReviews, a client that impersonates a user (an
 * actual request made as the tenant), and a clone of the lab fleet repo made with the operator key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { type KubeClient, type KubeObject, kubeClientOver, refOf } from '../../src/clients/kube.js';
import type { KubeTransport } from '../../src/clients/kube-transport.js';
import { resolveKubeconfig } from '../../src/clients/kubeconfig-auth.js';
import { deleteAndWait, settle } from '../../src/clients/namespaces.js';
import { waitForCrds } from '../../src/flux/install.js';
import { parseManifests } from '../../src/flux/manifests.js';
import type { StateStore } from '../../src/state/store.js';
import { emptyState, type State } from '../../src/state/types.js';
import { DEFAULT_QUOTA, type TenantSpec } from '../../src/tenants/manifests.js';
import { FIXTURES } from '../lab/config.js';
import type { LabEnv } from '../lab/env.js';
import { FLUX_INSTALL } from './flux-context.js';

/** A valid tenant spec (repo on a made-up host: nothing fetches it in the lab). */
export function tenantSpec(name: string, over: Partial<TenantSpec> = {}): TenantSpec {
  return {
    name,
    namespaces: [name],
    repo: `https://git.example.com/${name}/apps.git`,
    branch: 'main',
    path: './deploy',
    role: 'admin',
    quota: { ...DEFAULT_QUOTA },
    hosts: [],
    ...over,
  };
}

/** An in-memory {@link StateStore} that counts writes. */
export function memoryStore(cluster: string): StateStore & { writes: number; current: State } {
  const store = {
    location: 'local' as const,
    name: 'memory',
    writes: 0,
    current: emptyState(cluster),
    async load() {
      return structuredClone(store.current);
    },
    async update(mutate: (s: State) => void) {
      const next = structuredClone(store.current);
      mutate(next);
      store.writes++;
      store.current = next;
      return structuredClone(next);
    },
    async write(s: State) {
      store.writes++;
      store.current = structuredClone(s);
    },
  };
  return store;
}

const crdRef = (name: string) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });

/** The upstream CRDs a tenant uses: Istio's Gateway (istio/base chart) and Flux's GitRepository + Kustomization. */
function tenantCrds(): KubeObject[] {
  const istio = readFileSync(path.join(FIXTURES, 'charts', 'istio', 'base', 'files', 'crd-all.gen.yaml'), 'utf8');
  const gateway = parseManifests(istio).filter((c) => c.metadata.name === 'gateways.networking.istio.io');
  // Helm ownership metadata: an istio-base install running meanwhile adopts it instead of failing.
  for (const c of gateway) {
    c.metadata.labels = { ...c.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' };
    c.metadata.annotations = {
      'meta.helm.sh/release-name': 'istio-base',
      'meta.helm.sh/release-namespace': 'istio-system',
    };
  }
  const flux = parseManifests(readFileSync(FLUX_INSTALL, 'utf8')).filter((c) =>
    ['gitrepositories.source.toolkit.fluxcd.io', 'kustomizations.kustomize.toolkit.fluxcd.io'].includes(
      c.metadata.name,
    ),
  );
  return [...gateway, ...flux];
}

/**
 * Makes sure the tenant CRDs, namespace istio-ingress and the ops Gateway `istio-ingress/<gateway>` exist
 * (after any left terminating by another test file's cleanup are gone).
 * Returns a cleanup that removes only what it created.
 */
export async function ensureTenantPrereqs(kube: KubeClient, gateway: string): Promise<() => Promise<void>> {
  const created: KubeObject[] = [];
  const crds = tenantCrds();
  for (const c of crds) {
    if (!(await settle(kube, crdRef(c.metadata.name)))) {
      await kube.create(c);
      created.push(c);
    }
  }
  await waitForCrds(kube, crds);
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-ingress' } };
  if (!(await settle(kube, { apiVersion: 'v1', kind: 'Namespace', name: 'istio-ingress' }))) {
    await kube.create(ns);
    created.push(ns);
  }
  const gw: KubeObject = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: gateway, namespace: 'istio-ingress' },
    spec: {
      selector: { istio: 'ingress' },
      servers: [{ name: 'ops-http', port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*/ops.lab.test'] }],
    },
  };
  if (!(await kube.get({ apiVersion: gw.apiVersion, kind: gw.kind, name: gateway, namespace: 'istio-ingress' }))) {
    await kube.create(gw);
    created.push(gw);
  }
  // Waited for, so the next test file does not find them terminating.
  return async () => {
    for (const o of created.reverse()) await deleteAndWait(kube, refOf(o));
  };
}

/** A ServiceAccount user as the API server sees it. */
export const saUser = (ns: string, name: string) => ({
  user: `system:serviceaccount:${ns}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
});

/** Asks the API server (SubjectAccessReview) whether `who` may do `attrs`. */
export async function canI(
  kube: KubeClient,
  who: { user: string; groups: string[] },
  attrs: { verb: string; resource: string; group?: string; namespace?: string; name?: string },
): Promise<boolean> {
  const review = await kube.create<KubeObject & { status?: { allowed?: boolean } }>({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    // A review has no name (the API server refuses one); platctl's client only uses it for messages.
    metadata: {} as KubeObject['metadata'],
    spec: { user: who.user, groups: who.groups, resourceAttributes: { group: '', ...attrs } },
  });
  return review.status?.allowed === true;
}

/** A client whose every request impersonates `who` (the lab admin is allowed to impersonate). */
export function impersonate(env: LabEnv, who: { user: string; groups: string[] }): KubeClient {
  const cfg = resolveKubeconfig({ kubeconfig: env.kubeconfig });
  const url = new URL(cfg.server);
  const transport: KubeTransport = {
    server: cfg.server,
    async request(method, p, body, contentType = 'application/json') {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const { request } = await import('node:https');
      return new Promise((resolve, reject) => {
        const headers: Record<string, string | string[]> = {
          accept: 'application/json',
          'impersonate-user': who.user,
          'impersonate-group': who.groups,
        };
        if (payload) {
          headers['content-type'] = contentType;
          headers['content-length'] = String(Buffer.byteLength(payload));
        }
        const req = request(
          {
            method,
            hostname: url.hostname,
            port: url.port,
            path: p,
            headers,
            ca: cfg.ca,
            cert: cfg.cert,
            key: cfg.key,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          },
        );
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      });
    },
  };
  return kubeClientOver(transport);
}

/** A fresh clone of the lab fleet repo's main, made over ssh with the operator key. */
export async function cloneFleet(env: LabEnv) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platctl-tenant-fleet-'));
  await execa('git', ['clone', '-q', '--branch', 'main', env.fleetUrl, dir], {
    env: { GIT_SSH_COMMAND: env.gitSshCommand },
  });
  const head = (await execa('git', ['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
  return {
    dir,
    head,
    exists: (p: string) => existsSync(path.join(dir, p)),
    read: (p: string) => readFileSync(path.join(dir, p), 'utf8'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
