/**
 * What the storage step installs: the AWS EBS CSI driver (kubernetes-sigs/aws-ebs-csi-driver's chart, keys as in
 * its values.yaml 2.64.x) in kube-system with the iam step's IRSA role, and the cluster's default StorageClass:
 * gp3, encrypted with the kms step's EBS key named by its alias ARN. New EKS clusters (1.30+) have no default
 * StorageClass and no EBS CSI driver, so without this every PersistentVolumeClaim (Vault's Raft data) stays
 * Pending. Nothing in here is a secret.
 */
import { arn, type Partition } from '../aws/partition.js';
import { platctlTags } from '../aws/tags.js';
import type { KubeObject } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { mirrorImage } from '../images.js';
import { CREATED_BY } from '../istio/namespaces.js';

/** The CSI driver name, the StorageClass provisioner. */
export const EBS_DRIVER = 'ebs.csi.aws.com';
/** The release, in the namespace the EKS add-on uses too. */
export const EBS_RELEASE = 'aws-ebs-csi-driver';
export const EBS_NAMESPACE = 'kube-system';
/** The controller's ServiceAccount: the iam step's ebs-csi role trusts exactly this one. */
export const EBS_CONTROLLER_SA = 'ebs-csi-controller-sa';
/** Kubernetes' default-class annotation. */
export const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

/** What the driver and the class depend on besides config. */
export interface StorageInput {
  cluster: ClusterConfig;
  /** The iam step's ebsCsiRoleArn. */
  roleArn?: string;
  /** The kms step's EBS key alias (`alias/platctl/<cluster>/ebs`). */
  keyAlias: string;
  /** The partition of the cluster's region (aws, aws-cn, aws-us-gov). */
  partition: Partition;
}

/** The alias ARN of the EBS key, as the StorageClass names it. */
export function keyAliasArn(i: StorageInput): string {
  const { region, accountId } = i.cluster.aws;
  return arn(i.partition, 'kms', region, accountId, i.keyAlias);
}

/** The chart's images, rewritten to the mirror (tags stay the chart's). */
function mirroredImages(mirror: string): Record<string, unknown> {
  const at = (repo: string) => ({ image: { repository: mirrorImage(repo, mirror) } });
  const csi = (name: string) => at(`public.ecr.aws/csi-components/${name}`);
  return {
    ...at('public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver'),
    sidecars: {
      provisioner: csi('csi-provisioner'),
      attacher: csi('csi-attacher'),
      snapshotter: csi('csi-snapshotter'),
      livenessProbe: csi('livenessprobe'),
      resizer: csi('csi-resizer'),
      nodeDriverRegistrar: csi('csi-node-driver-registrar'),
      volumemodifier: at('public.ecr.aws/ebs-csi-driver/volume-modifier-for-k8s'),
    },
  };
}

/** The chart values. */
export function ebsDriverValues(i: StorageInput): Record<string, unknown> {
  const { cluster, roleArn } = i;
  const values: Record<string, unknown> = {
    controller: {
      region: cluster.aws.region,
      serviceAccount: {
        name: EBS_CONTROLLER_SA,
        annotations: roleArn ? { 'eks.amazonaws.com/role-arn': roleArn } : {},
      },
      // Every volume the driver creates carries platctl's tags, so teardown's orphan report finds the ones left.
      extraVolumeTags: platctlTags(cluster, 'storage'),
      k8sTagClusterId: cluster.name,
    },
  };
  const mirror = cluster.images.mirror;
  return mirror ? { ...values, ...mirroredImages(mirror) } : values;
}

/** The StorageClass parameters (immutable once created: a change means delete and create). */
export function storageClassParameters(i: StorageInput): Record<string, string> {
  return { type: 'gp3', encrypted: 'true', kmsKeyId: keyAliasArn(i), 'csi.storage.k8s.io/fstype': 'ext4' };
}

/** The default StorageClass. */
export function storageClass(i: StorageInput): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: i.cluster.storage.storageClass,
      labels: { 'app.kubernetes.io/managed-by': 'platctl' },
      annotations: { [DEFAULT_CLASS]: 'true', [CREATED_BY]: 'storage' },
    },
    provisioner: EBS_DRIVER,
    parameters: storageClassParameters(i),
    reclaimPolicy: 'Delete',
    // The volume is made in the zone the scheduler picks for the pod (EBS volumes are zonal).
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  };
}

/** One line per decision, for --dry-run and logs. */
export function storageSummary(i: StorageInput): string[] {
  const sc = i.cluster.storage.storageClass;
  return [
    `  EBS CSI driver: helm release ${EBS_NAMESPACE}/${EBS_RELEASE}, controller role ${i.roleArn ?? '(none yet: the iam step has not run)'}`,
    `  StorageClass ${sc} (default): gp3, encrypted with ${keyAliasArn(i)}, WaitForFirstConsumer, reclaim Delete`,
  ];
}
