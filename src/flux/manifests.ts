/**
 * Flux's install manifests: read from config `flux.manifests` (a file, as in the lab, or a URL), by default
 * the pinned release's install.yaml. Images are rewritten to `images.mirror`, and the multi-tenant lockdown
 * is defined once, as kustomize patches: the same list is written to the fleet repo's kustomization.yaml
 * (so Flux keeps it) and applied in memory to what platctl installs (so both agree from the first apply).
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError, wrapError } from '../errors.js';
import { mirrorImage } from '../images.js';

/** The release URL of install.yaml for a Flux version. */
export function releaseManifestsUrl(version: string): string {
  return `https://github.com/fluxcd/flux2/releases/download/${version}/install.yaml`;
}

/** Where the install manifests come from for this cluster. */
export function manifestsSource(cluster: ClusterConfig): string {
  return cluster.flux.manifests ?? releaseManifestsUrl(cluster.flux.version);
}

/** Reads install.yaml from a path or fetches it from a URL. */
export async function readInstallManifests(source: string): Promise<string> {
  if (!/^https?:\/\//.test(source)) {
    return readFile(source, 'utf8').catch((err) => {
      throw wrapError('CONFIG_INVALID', `cannot read Flux manifests flux.manifests=${source}`, err);
    });
  }
  let res: Response;
  try {
    res = await fetch(source, { signal: AbortSignal.timeout(60_000), redirect: 'follow' });
  } catch (err) {
    throw wrapError(
      'FLUX_MANIFESTS',
      `cannot download Flux manifests ${source}`,
      err,
      'without internet, set flux.manifests to a local install.yaml',
    );
  }
  if (!res.ok) throw new PlatctlError('FLUX_MANIFESTS', `cannot download Flux manifests ${source}: HTTP ${res.status}`);
  return res.text();
}

/** Parses a multi-document YAML stream into objects (empty documents dropped). */
export function parseManifests(text: string, source = 'manifests'): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new PlatctlError('FLUX_MANIFESTS', `${source} is not valid YAML: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as KubeObject | null;
    if (obj?.kind && obj.metadata?.name) out.push(obj);
  }
  return out;
}

type PodSpec = { containers?: { image?: string }[]; initContainers?: { image?: string }[] };

/** Rewrites every container image of the workloads to the mirror (in place). */
export function rewriteImages(objects: KubeObject[], mirror: string | undefined): void {
  if (!mirror) return;
  for (const o of objects) {
    const pod = (o.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      if (c.image) c.image = mirrorImage(c.image, mirror);
    }
  }
}

/** One kustomize JSON6902 `add` patch (the lockdown's, and the scaling's). */
export interface LockdownPatch {
  target: { kind: string; name: string };
  path: string;
  value: string;
}

const args = '/spec/template/spec/containers/0/args';
/** The multi-tenant lockdown, as Flux documents it (controllers missing from the install are skipped). */
export const LOCKDOWN_PATCHES: readonly LockdownPatch[] = [
  {
    target: {
      kind: 'Deployment',
      name: '(kustomize-controller|helm-controller|notification-controller|image-reflector-controller|image-automation-controller)',
    },
    path: `${args}/0`,
    value: '--no-cross-namespace-refs=true',
  },
  { target: { kind: 'Deployment', name: 'kustomize-controller' }, path: `${args}/-`, value: '--no-remote-bases=true' },
  {
    target: { kind: 'Deployment', name: '(kustomize-controller|helm-controller)' },
    path: `${args}/0`,
    value: '--default-service-account=default',
  },
  {
    target: { kind: 'Kustomization', name: 'flux-system' },
    path: '/spec/serviceAccountName',
    value: 'kustomize-controller',
  },
];

/**
 * Flux's vertical scaling, as its docs give it ("Flux vertical scaling"): `concurrent` reconciles in parallel per
 * controller (Flux's defaults are 2 for source-controller and 4 for the others: 100 tenants' sources then queue
 * behind one another), and a dependency that is not ready yet re-checked every 5 s instead of 30 s.
 */
export function scalingPatches(concurrent: number): LockdownPatch[] {
  const target = { kind: 'Deployment', name: '(kustomize-controller|helm-controller|source-controller)' };
  return [
    { target, path: `${args}/-`, value: `--concurrent=${concurrent}` },
    { target, path: `${args}/-`, value: '--requeue-dependency=5s' },
  ];
}

/** Every patch platctl makes to Flux's install for a cluster: the lockdown, then the scaling. */
export function fluxPatches(cluster: Pick<ClusterConfig, 'flux'>): LockdownPatch[] {
  return [...LOCKDOWN_PATCHES, ...scalingPatches(cluster.flux.concurrent)];
}

/** JSON-patch `add` of a string value (arrays: index or `-`; objects: set). */
function jsonPatchAdd(root: unknown, pointer: string, value: string): void {
  const parts = pointer.split('/').slice(1);
  const last = parts.pop();
  let at: unknown = root;
  for (const p of parts) at = Array.isArray(at) ? at[Number(p)] : (at as Record<string, unknown> | undefined)?.[p];
  if (Array.isArray(at)) {
    if (last === '-') at.push(value);
    else at.splice(Number(last), 0, value);
  } else if (at && typeof at === 'object' && last !== undefined) {
    (at as Record<string, unknown>)[last] = value;
  } else {
    throw new PlatctlError('INTERNAL', `lockdown patch ${pointer} does not fit the object`);
  }
}

/** Applies the lockdown patches in order to matching objects (in place), as kustomize would. */
export function applyLockdown(objects: KubeObject[], patches: readonly LockdownPatch[] = LOCKDOWN_PATCHES): void {
  for (const p of patches) {
    const name = new RegExp(`^${p.target.name}$`);
    for (const o of objects) {
      if (o.kind === p.target.kind && name.test(o.metadata.name)) jsonPatchAdd(o, p.path, p.value);
    }
  }
}

/** The lockdown patches in kustomization.yaml's `patches:` shape. */
export function kustomizePatches(patches: readonly LockdownPatch[] = LOCKDOWN_PATCHES): unknown[] {
  return patches.map((p) => ({
    patch: stringify([{ op: 'add', path: p.path, value: p.value }]).trimEnd(),
    target: p.target,
  }));
}

/** The install objects: mirrored, and split for ordered apply (namespaces and CRDs first). */
export interface InstallSet {
  /** Every object, images mirrored, without the lockdown (what gotk-components.yaml holds). */
  components: KubeObject[];
  /** Namespaces and CRDs, applied first. */
  first: KubeObject[];
  /** Everything else, with the lockdown patches applied. */
  rest: KubeObject[];
}

/** Loads, mirrors and locks down the install manifests for a cluster. */
export async function loadInstallSet(cluster: ClusterConfig): Promise<InstallSet> {
  const source = manifestsSource(cluster);
  const components = parseManifests(await readInstallManifests(source), source);
  rewriteImages(components, cluster.images.mirror);
  const locked = structuredClone(components);
  applyLockdown(locked, fluxPatches(cluster));
  const isFirst = (o: KubeObject) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition';
  return { components, first: locked.filter(isFirst), rest: locked.filter((o) => !isFirst(o)) };
}

/** Serialises objects as one YAML stream. */
export function toYamlStream(objects: readonly unknown[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}
