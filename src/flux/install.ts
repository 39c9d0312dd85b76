/**
 * Installing and removing Flux in the cluster: server-side apply (field manager platctl) of the install set,
 * namespaces and CRDs first (then waiting for the CRDs to be Established), the rest after; and the reverse,
 * careful to suspend first so no controller prunes or uninstalls anything on the way out.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { type Crd, crdKind, isCrd } from '../clients/crds.js';
import {
  isNotFound,
  type KubeClient,
  type KubeObject,
  objectLabel as label,
  type ObjectRef,
  refOf,
} from '../clients/kube.js';
import { deleteAndWait, settle } from '../clients/namespaces.js';
import { PlatctlError, wrapError } from '../errors.js';
import type { Logger } from '../log.js';
import type { InstallSet } from './manifests.js';

/** Applies each object with server-side apply (force: platctl owns these fields until Flux takes over). */
export async function applyAll(
  kube: KubeClient,
  objects: readonly KubeObject[],
  progress?: (m: string) => void,
): Promise<void> {
  let n = 0;
  for (const o of objects) {
    progress?.(`applying ${label(o)} (${++n}/${objects.length})`);
    await kube.apply(o, { force: true }).catch((err: unknown) => {
      throw wrapError('KUBE_API', `cannot apply ${label(o)}`, err);
    });
  }
}

/** Waits until every CRD in the set reports Established=True. */
export async function waitForCrds(kube: KubeClient, crds: readonly KubeObject[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = crds.filter(isCrd);
  while (pending.length > 0) {
    const next: KubeObject[] = [];
    for (const c of pending) {
      const live = await kube.get<Crd>(refOf(c));
      const est = live?.status?.conditions?.find((x) => x.type === 'Established');
      if (est?.status !== 'True') next.push(c);
    }
    pending = next;
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new PlatctlError(
        'KUBE_TIMEOUT',
        `CRDs not Established after ${timeoutMs / 1000}s: ${pending.map((c) => c.metadata.name).join(', ')}`,
      );
    }
    await sleep(500);
  }
}

/** Installs the set: namespaces and CRDs (once any terminating ones are gone), wait for the CRDs, then everything else. */
export async function installFlux(kube: KubeClient, set: InstallSet, progress?: (m: string) => void): Promise<void> {
  // A flux-system or CRD left terminating by a teardown would refuse (or later drop) what is applied now.
  for (const o of set.first) await settle(kube, refOf(o), { waiting: progress });
  await applyAll(kube, set.first, progress);
  progress?.('waiting for the Flux CRDs to be Established');
  await waitForCrds(kube, set.first);
  await applyAll(kube, set.rest, progress);
}

/** The kinds a CRD of the set serves (storage version), for listing what is left of them. */
function crdKinds(set: InstallSet): { apiVersion: string; kind: string }[] {
  return set.first.filter(isCrd).flatMap((c) => crdKind(c) ?? []);
}

/** Lists every object of a kind, cluster-wide; nothing when the kind is not served (CRD already gone). */
export async function listAll(kube: KubeClient, apiVersion: string, kind: string): Promise<KubeObject[]> {
  try {
    return await kube.list(apiVersion, kind);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Merge-patches an object; nothing when it is already gone. */
async function patchIfThere(kube: KubeClient, ref: ObjectRef, patch: unknown): Promise<void> {
  await kube.patch(ref, patch).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

/**
 * Removes Flux: suspends every Kustomization and HelmRelease (so nothing is pruned or uninstalled), deletes
 * the controllers and the cluster-scoped install objects, strips the finalizers left on Flux objects (no
 * controller is left to remove them), then deletes namespace flux-system and the CRDs. Tolerates all of it
 * being gone already.
 */
export async function uninstallFlux(kube: KubeClient, set: InstallSet, log: Logger): Promise<void> {
  const kinds = crdKinds(set);
  const suspendable = kinds.filter((k) => k.kind === 'Kustomization' || k.kind === 'HelmRelease');
  for (const k of suspendable) {
    for (const o of await listAll(kube, k.apiVersion, k.kind)) {
      await patchIfThere(kube, refOf({ ...o, apiVersion: k.apiVersion, kind: k.kind }), { spec: { suspend: true } });
    }
  }
  const doomed = set.rest.filter((o) => o.kind === 'Deployment' || !o.metadata.namespace);
  for (const o of doomed) if (await kube.delete(refOf(o))) log.info(`deleted ${label(o)}`);
  for (const k of kinds) {
    for (const o of await listAll(kube, k.apiVersion, k.kind)) {
      const ref = refOf({ ...o, apiVersion: k.apiVersion, kind: k.kind });
      if ((o.metadata.finalizers as string[] | undefined)?.length) {
        await patchIfThere(kube, ref, { metadata: { finalizers: null } });
      }
      await kube.delete(ref);
    }
  }
  // Waited for, so a bootstrap right after starts clean (a terminating namespace refuses new objects).
  const wait = { waiting: (m: string) => log.waiting(m) };
  for (const kind of ['Namespace', 'CustomResourceDefinition']) {
    const objs = set.first.filter((x) => x.kind === kind);
    const deleted = await Promise.all(objs.map((o) => deleteAndWait(kube, refOf(o), wait)));
    for (const o of objs.filter((_, i) => deleted[i])) log.info(`deleted ${label(o)}`);
  }
}
