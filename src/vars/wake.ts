/**
 * After the cluster variables change: asks every Kustomization in flux-system that substitutes from them to
 * reconcile now (as `flux reconcile ks` does) and waits, bounded by `flux.timeout`, until each has handled that
 * request, so the new values are in the cluster when the step reports done, and the `flux` step's check that
 * follows reads a settled status. A reader that handled it but is not Ready is a warning here (all of them
 * together): the root's health is the `flux` step's to judge, a tenant's is the tenant's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isNotFound, type KubeClient, type KubeObject } from '../clients/kube.js';
import { parseDuration, requestReconcile } from '../flux/wait.js';
import type { StepContext } from '../step.js';
import { PLATFORM_VARS } from './names.js';

const KUSTOMIZATION = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' };

type Kustomization = KubeObject & {
  spec?: { suspend?: boolean; postBuild?: { substituteFrom?: { kind?: string; name?: string }[] } };
  status?: {
    lastHandledReconcileAt?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
};

const readsVars = (k: Kustomization) =>
  k.spec?.postBuild?.substituteFrom?.some((s) => s.kind === 'ConfigMap' && s.name === PLATFORM_VARS.name) ?? false;

async function listReaders(kube: KubeClient): Promise<Kustomization[]> {
  try {
    const all = await kube.list<Kustomization>(KUSTOMIZATION.apiVersion, KUSTOMIZATION.kind, {
      namespace: PLATFORM_VARS.namespace,
    });
    return all.filter((k) => readsVars(k) && !k.spec?.suspend);
  } catch (err) {
    // Flux is not installed yet (first bootstrap): nobody to wake.
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Options for {@link wakeReaders} (tests shorten the poll). */
export interface WakeOptions {
  pollMs?: number;
}

/** Requests the reconcile and waits for it to be handled; returns the names of the Kustomizations woken. */
export async function wakeReaders(ctx: StepContext, kube: KubeClient, o: WakeOptions = {}): Promise<string[]> {
  const readers = await listReaders(kube);
  if (readers.length === 0) return [];
  const refs = readers.map((k) => ({ ...KUSTOMIZATION, namespace: PLATFORM_VARS.namespace, name: k.metadata.name }));
  const names = refs.map((r) => r.name);
  const token = await requestReconcile(kube, refs);
  ctx.log.waiting(`asked Flux to apply the new variables now: Kustomization ${names.join(', ')}`);
  const timeoutMs = parseDuration(ctx.cluster.flux.timeout);
  const deadline = Date.now() + timeoutMs;
  let pending = names;
  const notReady: string[] = [];
  while (pending.length > 0) {
    const now = await listReaders(kube);
    const handled = now.filter((k) => pending.includes(k.metadata.name) && k.status?.lastHandledReconcileAt === token);
    for (const k of handled) {
      const ready = k.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True')
        notReady.push(`${k.metadata.name}: Ready=${ready?.status ?? 'unknown'} (${ready?.reason}: ${ready?.message})`);
    }
    // Gone or suspended meanwhile: nothing to wait for.
    pending = pending.filter(
      (n) => now.some((k) => k.metadata.name === n) && !handled.some((k) => k.metadata.name === n),
    );
    if (pending.length === 0) break;
    if (Date.now() >= deadline) {
      ctx.log.warning(
        `Flux has not handled the request within ${Math.round(timeoutMs / 1000)}s (Kustomization ${pending.join(', ')}): it applies the new variables when it next reconciles`,
      );
      break;
    }
    ctx.progress(`waiting for Flux to reconcile Kustomization ${pending.join(', ')}`);
    await sleep(Math.min(o.pollMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
  if (notReady.length > 0)
    ctx.log.warning(`Flux reconciled with the new variables, but not Ready: Kustomization ${notReady.join('; ')}`);
  else if (pending.length === 0) ctx.log.success(`Flux applied the new variables (Kustomization ${names.join(', ')})`);
  return names;
}
