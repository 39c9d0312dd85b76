/**
 * Revision tags. The istiod chart renders, for each tag in `revisionTags`, a MutatingWebhookConfiguration
 * `istio-revision-tag-<tag>` (labels istio.io/tag=<tag>, istio.io/rev=<revision>; its webhooks call the
 * revision's service istiod-<revision>) and a Service `istiod-revision-tag-<tag>`. Whichever istiod release
 * lists the tag owns both.
 *
 * Moving a tag between releases without a moment where no webhook exists (pods created then would silently
 * get no sidecar): mark the two objects `helm.sh/resource-policy: keep` and hand their ownership annotation to
 * the new release; upgrade the old release without the tag (helm skips deleting kept objects); upgrade the
 * new release with the tag (it adopts and re-points them); drop the keep mark.
 */
import type { KubeClient, KubeObject, ObjectRef } from '../clients/kube.js';
import { crashPoint } from '../test-seams.js';
import type { Helm } from '../tools/helm.js';
import { ISTIO_NAMESPACE, istiodRelease } from './revision.js';

/** The MutatingWebhookConfiguration of a tag (for a release in istio-system). */
export const tagWebhookName = (tag: string) => `istio-revision-tag-${tag}`;
/** The Service of a tag. */
export const tagServiceName = (tag: string) => `istiod-revision-tag-${tag}`;

const MWC = 'admissionregistration.k8s.io/v1';
const webhookRef = (tag: string): ObjectRef => ({
  apiVersion: MWC,
  kind: 'MutatingWebhookConfiguration',
  name: tagWebhookName(tag),
});
const serviceRef = (tag: string): ObjectRef => ({
  apiVersion: 'v1',
  kind: 'Service',
  namespace: ISTIO_NAMESPACE,
  name: tagServiceName(tag),
});

/** Where a tag points, as its webhook says. */
export interface TagState {
  tag: string;
  /** The `istio.io/rev` label: the revision whose injector serves the tag. */
  revision: string;
  /** The helm release owning the webhook (meta.helm.sh/release-name). */
  release?: string;
  /** The service its first webhook calls (istiod-<revision>). */
  service?: string;
  /** Still marked keep by an interrupted move. */
  kept: boolean;
  /** The `helm.sh/chart` label: "istiod-1.30.3". */
  chart?: string;
}

type Webhook = KubeObject & { webhooks?: { clientConfig?: { service?: { name?: string } } }[] };

/** Reads a tag's state from its webhook object. */
export function tagStateOf(obj: Webhook): TagState {
  const labels = obj.metadata.labels ?? {};
  const ann = obj.metadata.annotations ?? {};
  return {
    tag: labels['istio.io/tag'] ?? obj.metadata.name.replace(/^istio-revision-tag-/, ''),
    revision: labels['istio.io/rev'] ?? '',
    release: ann['meta.helm.sh/release-name'],
    service: obj.webhooks?.[0]?.clientConfig?.service?.name,
    kept: ann['helm.sh/resource-policy'] === 'keep',
    chart: labels['helm.sh/chart'],
  };
}

/** One tag (one GET); undefined when its webhook does not exist. */
export async function readTag(kube: KubeClient, tag: string): Promise<TagState | undefined> {
  const obj = await kube.get<Webhook>(webhookRef(tag));
  return obj ? tagStateOf(obj) : undefined;
}

/** Every tag webhook in the cluster (one LIST with label selector istio.io/tag), by tag. */
export async function readTags(kube: KubeClient): Promise<Map<string, TagState>> {
  const items = await kube.list<Webhook>(MWC, 'MutatingWebhookConfiguration', { labelSelector: 'istio.io/tag' });
  return new Map(
    items.map((o) => {
      const s = tagStateOf(o);
      return [s.tag, s];
    }),
  );
}

/** The tags an istiod release lists in its values (revisionTags). */
export async function heldTags(helm: Helm, revision: string): Promise<string[]> {
  const values = await helm.getValues(istiodRelease(revision), ISTIO_NAMESPACE);
  const tags = values?.revisionTags;
  return Array.isArray(tags) ? tags.map(String) : [];
}

/** Marks a tag's objects kept and owned by `release` (step one of a move). */
export async function handOver(kube: KubeClient, tag: string, release: string): Promise<void> {
  const annotations = {
    'helm.sh/resource-policy': 'keep',
    'meta.helm.sh/release-name': release,
    'meta.helm.sh/release-namespace': ISTIO_NAMESPACE,
  };
  for (const ref of [webhookRef(tag), serviceRef(tag)]) {
    if (await kube.get(ref)) await kube.patch(ref, { metadata: { annotations } });
  }
  crashPoint('istio', 'tag-handed-over');
}

/** Drops the keep mark from a tag's objects (last step of a move, and cleanup after an interrupted one). */
export async function releaseKeep(kube: KubeClient, tag: string): Promise<void> {
  for (const ref of [webhookRef(tag), serviceRef(tag)]) {
    const obj = await kube.get(ref);
    if (obj?.metadata.annotations?.['helm.sh/resource-policy'] === 'keep') {
      await kube.patch(ref, { metadata: { annotations: { 'helm.sh/resource-policy': null } } });
    }
  }
}

/** Deletes a tag's objects outright (destroy: leftovers of an interrupted move survive helm uninstall). */
export async function deleteTagObjects(kube: KubeClient, tag: string): Promise<void> {
  await kube.delete(webhookRef(tag));
  await kube.delete(serviceRef(tag));
}
