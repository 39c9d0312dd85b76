/**
 * Namespaces and their injection labels. A meshed namespace carries `istio.io/rev=<tag>` and never
 * `istio-injection` too (the tag webhooks only match namespaces without it, so having both silently turns
 * injection off). Namespaces platctl creates are marked, so destroy removes only what it made.
 */
import type { KubeClient, KubeObject } from '../clients/kube.js';
import { createNamespace, deleteAndWait, type SettleOptions, settleNamespace } from '../clients/namespaces.js';

/** The injection label. */
export const REV_LABEL = 'istio.io/rev';
/** The legacy label that must not sit beside istio.io/rev. */
export const LEGACY_INJECTION_LABEL = 'istio-injection';
/** Marks namespaces platctl created: the value is the step that created it. */
export const CREATED_BY = 'platctl.io/created-by';

const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });

/**
 * Creates a namespace if missing, marked as made by `step`; a namespace still being deleted is waited for
 * first (see settleNamespace). Returns true when it created it.
 */
export async function ensureNamespace(
  kube: KubeClient,
  name: string,
  step: string,
  labels: Record<string, string> = {},
  wait: SettleOptions = {},
): Promise<boolean> {
  return createNamespace(
    kube,
    name,
    { labels: { 'app.kubernetes.io/managed-by': 'platctl', ...labels }, annotations: { [CREATED_BY]: step } },
    wait,
  );
}

/**
 * Deletes those of `names` that `step` created, all at once, and waits until they are gone (the namespace
 * controller takes at least 5 s each, so one at a time would add up). Returns the names it deleted.
 */
export async function deleteNamespacesIfOurs(
  kube: KubeClient,
  names: readonly string[],
  step: string,
  wait: SettleOptions = {},
): Promise<string[]> {
  const ours = async (name: string) => (await kube.get(nsRef(name)))?.metadata.annotations?.[CREATED_BY] === step;
  const deleted = await Promise.all(
    names.map(async (name) => (await ours(name)) && (await deleteAndWait(kube, nsRef(name), wait))),
  );
  return names.filter((_, i) => deleted[i]);
}

/** What would change to give `names` the label `istio.io/rev=<value>` (for checks and --dry-run). */
export async function namespaceLabelChanges(kube: KubeClient, names: readonly string[], value: string) {
  const changes: string[] = [];
  for (const name of names) {
    const ns = await kube.get(nsRef(name));
    const labels = ns?.metadata.labels ?? {};
    if (!ns) changes.push(`+ namespace ${name} (${REV_LABEL}=${value})`);
    else if (labels[REV_LABEL] !== value) changes.push(`~ namespace ${name} label ${REV_LABEL}=${value}`);
    if (labels[LEGACY_INJECTION_LABEL] !== undefined)
      changes.push(`- namespace ${name} label ${LEGACY_INJECTION_LABEL}`);
  }
  return changes;
}

/** Labels (creating if missing) each namespace `istio.io/rev=<value>` and drops istio-injection. */
export async function labelNamespaces(
  kube: KubeClient,
  names: readonly string[],
  value: string,
  wait: SettleOptions = {},
): Promise<string[]> {
  const changed: string[] = [];
  for (const name of names) {
    const ns = await settleNamespace(kube, name, wait);
    if (!ns) {
      await ensureNamespace(kube, name, 'istio', { [REV_LABEL]: value }, wait);
      changed.push(name);
      continue;
    }
    const labels = ns.metadata.labels ?? {};
    if (labels[REV_LABEL] === value && labels[LEGACY_INJECTION_LABEL] === undefined) continue;
    // Merge patch: null deletes the legacy label.
    await kube.patch(nsRef(name), { metadata: { labels: { [REV_LABEL]: value, [LEGACY_INJECTION_LABEL]: null } } });
    changed.push(name);
  }
  return changed;
}

/** Removes `istio.io/rev` from each namespace where it has one of `values` (what platctl set). */
export async function unlabelNamespaces(kube: KubeClient, names: readonly string[], values: readonly string[]) {
  const changed: string[] = [];
  for (const name of names) {
    const ns = await kube.get(nsRef(name));
    const v = ns?.metadata.labels?.[REV_LABEL];
    if (!ns || v === undefined || !values.includes(v)) continue;
    await kube.patch(nsRef(name), { metadata: { labels: { [REV_LABEL]: null } } });
    changed.push(name);
  }
  return changed;
}

/** Namespaces whose `istio.io/rev` label is one of `values` (a revision and the tags it holds). */
export async function namespacesPointingAt(kube: KubeClient, values: readonly string[]): Promise<string[]> {
  if (values.length === 0) return [];
  const items = await kube.list<KubeObject>('v1', 'Namespace', {
    labelSelector: `${REV_LABEL} in (${values.join(',')})`,
  });
  return items.map((n) => n.metadata.name).sort();
}
