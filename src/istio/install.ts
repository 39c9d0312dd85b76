/**
 * The istio step's apply and destroy: three helm releases (istio-base, istiod-<rev>, istio-ingress), the
 * injection labels on the configured namespaces, and the Flux trailing-dot fix when Flux is there too.
 * Nothing waits for pods: readiness is the cluster's business (and the lab has no kubelet).
 */

import { CRD_API_VERSION, deleteCrd } from '../clients/crds.js';
import { type KubeClient, type KubeObject, refOf } from '../clients/kube.js';
import { settle, waitFor } from '../clients/namespaces.js';
import { PlatctlError } from '../errors.js';
import type { StepOutputs } from '../state/types.js';
import type { StepContext } from '../step.js';
import { crashPoint } from '../test-seams.js';
import { helmFor } from '../tools/helm.js';
import { ensureRelease } from '../tools/helm-ensure.js';
import { istioOutputs, otherRevisions } from './check.js';
import { fluxTrailingDotFix, removeFluxTrailingDotFix } from './flux-fix.js';
import { deleteNamespacesIfOurs, ensureNamespace, labelNamespaces, unlabelNamespaces } from './namespaces.js';
import {
  BASE_RELEASE,
  configRevision,
  GATEWAY_NAMESPACE,
  GATEWAY_RELEASE,
  ISTIO_NAMESPACE,
  injectionLabel,
  istiodRelease,
} from './revision.js';
import { deleteTagObjects, readTags, releaseKeep } from './tags.js';
import { istioSpecs } from './values.js';

/** Refuses to touch Istio while another revision runs beside (or instead of) the configured one. */
async function refuseDuringUpgrade(ctx: StepContext): Promise<void> {
  const { others, mineInstalled } = await otherRevisions(ctx);
  if (others.length === 0) return;
  const mine = istiodRelease(configRevision(ctx.cluster));
  const rev = others[0]?.replace(/^istiod-/, '') ?? '';
  const version = /^\d+-\d+-\d+$/.test(rev) ? rev.replaceAll('-', '.') : '<version>';
  if (!mineInstalled) {
    throw new PlatctlError(
      'ISTIO_REVISION_MISMATCH',
      `platform.yaml asks for ${mine}, but ${others.join(', ')} is installed`,
      {
        hint: `after \`istio upgrade --finish\`, set istio.version: ${version}; to change versions, use \`platctl istio upgrade\``,
      },
    );
  }
  throw new PlatctlError(
    'ISTIO_UPGRADE_IN_PROGRESS',
    `${others.join(', ')} is installed beside ${mine}: an \`istio upgrade\` is in progress`,
    {
      hint: `finish it (platctl istio upgrade ${ctx.cluster.name} --version ${version} --finish, then set istio.version: ${version}) or abort it (--rollback)`,
    },
  );
}

/** Installs or updates Istio as config asks. */
export async function applyIstio(ctx: StepContext): Promise<StepOutputs> {
  const c = ctx.cluster;
  const rev = configRevision(c);
  const kube = await ctx.kube();
  const helm = helmFor(ctx);
  await refuseDuringUpgrade(ctx);
  for (const ns of [ISTIO_NAMESPACE, GATEWAY_NAMESPACE]) {
    if (await ensureNamespace(kube, ns, 'istio', {}, waitFor(ctx))) ctx.log.created(`namespace ${ns}`);
  }
  // CRDs a teardown just deleted may still be terminating; helm would then find them "already exists".
  for (const crd of await istioCrds(kube)) await settle(kube, refOf(crd), waitFor(ctx));
  for (const spec of istioSpecs(c)) {
    ctx.progress(`helm release ${spec.namespace}/${spec.release}`);
    await ensureRelease(helm, spec, ctx.log);
    crashPoint('istio', `after-${spec.release}`);
  }
  const tags = await readTags(kube);
  for (const tag of c.istio.tags) {
    const t = tags.get(tag);
    if (t?.revision !== rev) {
      throw new PlatctlError('ISTIO_TAG', `tag webhook for ${tag} points at ${t?.revision ?? 'nothing'}, not ${rev}`, {
        hint: 'see `helm get manifest` of the istiod release; the chart renders istio-revision-tag-<tag>',
      });
    }
    if (t.kept) await releaseKeep(kube, tag);
  }
  const labelled = await labelNamespaces(kube, c.istio.namespaces, injectionLabel(c), waitFor(ctx));
  for (const ns of labelled) ctx.log.success(`namespace ${ns} labelled istio.io/rev=${injectionLabel(c)}`);
  await fluxTrailingDotFix(ctx);
  return istioOutputs(ctx);
}

/** The CRDs the istio-base chart installed (it marks them keep, so they outlive its release). */
async function istioCrds(kube: KubeClient): Promise<KubeObject[]> {
  const crds = await kube.list<KubeObject>(CRD_API_VERSION, 'CustomResourceDefinition', {
    labelSelector: `app.kubernetes.io/instance=${BASE_RELEASE}`,
  });
  return crds.map((c) => ({ ...c, apiVersion: CRD_API_VERSION, kind: 'CustomResourceDefinition' }));
}

/** Removes what applyIstio made; everything tolerates being gone already. */
export async function destroyIstio(ctx: StepContext): Promise<void> {
  const c = ctx.cluster;
  const kube = await ctx.kube();
  const helm = helmFor(ctx);
  if (await removeFluxTrailingDotFix(kube)) ctx.log.success('Flux trailing-dot EnvoyFilter removed');
  if (await helm.uninstall(GATEWAY_RELEASE, GATEWAY_NAMESPACE))
    ctx.log.success(`helm release ${GATEWAY_RELEASE} removed`);
  // Every revision, including a canary left by `istio upgrade`.
  for (const r of await helm.list({ namespace: ISTIO_NAMESPACE, filter: '^istiod-' })) {
    if (await helm.uninstall(r.name, ISTIO_NAMESPACE)) ctx.log.success(`helm release ${r.name} removed`);
  }
  // A move interrupted after its keep mark leaves tag objects that no uninstall deletes.
  for (const [tag, t] of await readTags(kube)) if (t.release?.startsWith('istiod-')) await deleteTagObjects(kube, tag);
  if (await helm.uninstall(BASE_RELEASE, ISTIO_NAMESPACE)) ctx.log.success(`helm release ${BASE_RELEASE} removed`);
  // istio-base marks its CRDs keep, so uninstall leaves them; they are platctl's to remove.
  const crds = await istioCrds(kube);
  for (const crd of crds) await deleteCrd(kube, crd);
  if (crds.length > 0) ctx.log.success(`${crds.length} Istio CRDs removed`);
  const values = [...c.istio.tags, configRevision(c)];
  for (const ns of await unlabelNamespaces(kube, c.istio.namespaces, values))
    ctx.log.success(`namespace ${ns} unlabelled`);
  // Mesh namespaces platctl created for the label go too; ones the user made stay (they lack our annotation).
  const ours = [...c.istio.namespaces, GATEWAY_NAMESPACE, ISTIO_NAMESPACE];
  for (const ns of await deleteNamespacesIfOurs(kube, ours, 'istio', waitFor(ctx))) {
    ctx.log.success(`namespace ${ns} deleted`);
  }
}
