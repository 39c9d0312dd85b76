/**
 * Maps apiVersion+kind to a REST path. Kinds platctl touches are known up front, so the common path costs
 * no discovery request; anything else is discovered once per group-version and cached.
 */

/** How a kind is addressed: its plural resource name and whether it lives in a namespace. */
export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

const known: Record<string, ResourceInfo> = {
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/ConfigMap': { plural: 'configmaps', namespaced: true },
  'v1/Secret': { plural: 'secrets', namespaced: true },
  'v1/ServiceAccount': { plural: 'serviceaccounts', namespaced: true },
  'v1/Service': { plural: 'services', namespaced: true },
  'v1/Pod': { plural: 'pods', namespaced: true },
  'v1/ResourceQuota': { plural: 'resourcequotas', namespaced: true },
  'v1/LimitRange': { plural: 'limitranges', namespaced: true },
  'v1/PersistentVolume': { plural: 'persistentvolumes', namespaced: false },
  'v1/PersistentVolumeClaim': { plural: 'persistentvolumeclaims', namespaced: true },
  'apps/v1/Deployment': { plural: 'deployments', namespaced: true },
  'apps/v1/StatefulSet': { plural: 'statefulsets', namespaced: true },
  'apps/v1/DaemonSet': { plural: 'daemonsets', namespaced: true },
  'batch/v1/CronJob': { plural: 'cronjobs', namespaced: true },
  'batch/v1/Job': { plural: 'jobs', namespaced: true },
  'coordination.k8s.io/v1/Lease': { plural: 'leases', namespaced: true },
  'rbac.authorization.k8s.io/v1/Role': { plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { plural: 'rolebindings', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { plural: 'clusterrolebindings', namespaced: false },
  // The storage step's cheap check reads the StorageClass on every run: no discovery request for it.
  'storage.k8s.io/v1/StorageClass': { plural: 'storageclasses', namespaced: false },
  'storage.k8s.io/v1/CSIDriver': { plural: 'csidrivers', namespaced: false },
  'networking.k8s.io/v1/NetworkPolicy': { plural: 'networkpolicies', namespaced: true },
  'networking.k8s.io/v1/Ingress': { plural: 'ingresses', namespaced: true },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': { plural: 'customresourcedefinitions', namespaced: false },
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': {
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': {
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  'authorization.k8s.io/v1/SubjectAccessReview': { plural: 'subjectaccessreviews', namespaced: false },
  'source.toolkit.fluxcd.io/v1/GitRepository': { plural: 'gitrepositories', namespaced: true },
  'source.toolkit.fluxcd.io/v1/HelmRepository': { plural: 'helmrepositories', namespaced: true },
  'kustomize.toolkit.fluxcd.io/v1/Kustomization': { plural: 'kustomizations', namespaced: true },
  'helm.toolkit.fluxcd.io/v2/HelmRelease': { plural: 'helmreleases', namespaced: true },
};

/** The static entry for a kind, if platctl knows it without discovery. */
export function knownResource(apiVersion: string, kind: string): ResourceInfo | undefined {
  return known[`${apiVersion}/${kind}`];
}

/** The collection path of a resource: /api/v1/namespaces/x/configmaps or /apis/apps/v1/deployments. */
export function collectionPath(apiVersion: string, info: ResourceInfo, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.plural}`;
}
