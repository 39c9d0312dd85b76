/**
 * Helm values for the Vault chart (hashicorp/vault-helm 0.34.x, keys as in its values.yaml), generated from
 * config and earlier steps' outputs: HA on integrated storage (Raft) with setNodeId and a retry_join stanza
 * for every peer, required pod anti-affinity, Raft volumes of the storage step's StorageClass, the awskms seal with the kms step's alias, the IRSA role
 * annotation on the server ServiceAccount, and TLS in the pod unless Istio's mTLS covers the namespace.
 * Nothing in here is a secret: an alias, a role ARN and file paths.
 */
import type { ClusterConfig } from '../config/schema.js';
import { mirrorImage } from '../images.js';
import { inMesh } from '../istio/revision.js';

/** The release name; the chart names pods vault-<i> and the headless service vault-internal after it. */
export const VAULT_RELEASE = 'vault';
/** The Secret holding tls.crt, tls.key and ca.crt when Vault serves TLS itself. */
export const VAULT_TLS_SECRET = 'vault-tls';
/** Where the chart mounts server.extraVolumes secrets. */
const TLS_DIR = `/vault/userconfig/${VAULT_TLS_SECRET}`;

/** What the values depend on besides config. */
export interface VaultValuesInput {
  cluster: ClusterConfig;
  /** KMS alias for the awskms seal (kms step output vaultKeyAlias, else vault.kmsAlias); none → Shamir. */
  kmsAlias?: string;
  /** IAM role for the server ServiceAccount (iam step output vaultRoleArn). */
  roleArn?: string;
  /** The seal's region (default aws.region; the fleet repo's copy says `${aws_region}`). */
  region?: string;
  /**
   * The StorageClass of the Raft volumes: unset means the storage step's (its output, else storage.storageClass);
   * null means none named (a Vault installed before platctl named one keeps its volumes as they are).
   */
  storageClass?: string | null;
}

/** The class the Raft volumes use (undefined: none named, the chart's default). */
export function dataStorageClass(input: VaultValuesInput): string | undefined {
  if (input.storageClass === null) return undefined;
  return input.storageClass ?? input.cluster.storage.storageClass;
}

/** True when Vault's namespace is in the mesh, so Istio's mTLS encrypts its traffic and the pod serves HTTP. */
export function vaultMeshed(cluster: ClusterConfig): boolean {
  return inMesh(cluster, cluster.vault.namespace);
}

/** The API address of peer `i` (retry_join's leader_api_addr: the API port 8200, not the cluster port 8201). */
export function peerAddress(i: number, tls: boolean): string {
  return `${tls ? 'https' : 'http'}://${VAULT_RELEASE}-${i}.${VAULT_RELEASE}-internal:8200`;
}

/** The server's HCL configuration. */
export function vaultHcl(input: VaultValuesInput): string {
  const { cluster, kmsAlias } = input;
  const tls = !vaultMeshed(cluster);
  const listener = tls
    ? [`  tls_cert_file = "${TLS_DIR}/tls.crt"`, `  tls_key_file = "${TLS_DIR}/tls.key"`, `  tls_min_version = "tls12"`]
    : ['  # TLS is Istio mTLS: the namespace is in the mesh', '  tls_disable = 1'];
  const joins = Array.from({ length: cluster.vault.replicas }, (_, i) =>
    [
      '  retry_join {',
      `    leader_api_addr = "${peerAddress(i, tls)}"`,
      ...(tls ? [`    leader_ca_cert_file = "${TLS_DIR}/ca.crt"`] : []),
      '  }',
    ].join('\n'),
  );
  const seal = kmsAlias
    ? ['', 'seal "awskms" {', `  region = "${input.region ?? cluster.aws.region}"`, `  kms_key_id = "${kmsAlias}"`, '}']
    : [];
  return [
    'ui = true',
    '',
    'listener "tcp" {',
    '  address = "[::]:8200"',
    '  cluster_address = "[::]:8201"',
    ...listener,
    '}',
    '',
    'storage "raft" {',
    '  path = "/vault/data"',
    ...joins,
    '}',
    ...seal,
    '',
    'service_registration "kubernetes" {}',
    '',
  ].join('\n');
}

/** Required anti-affinity: no two Vault servers on one node (a node loss costs at most one Raft voter). */
const ANTI_AFFINITY = `podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - labelSelector:
        matchLabels:
          app.kubernetes.io/name: {{ template "vault.name" . }}
          app.kubernetes.io/instance: "{{ .Release.Name }}"
          component: server
      topologyKey: kubernetes.io/hostname
`;

/** The chart values. */
export function vaultValues(input: VaultValuesInput): Record<string, unknown> {
  const { cluster, roleArn } = input;
  const mirror = cluster.images.mirror;
  const tls = !vaultMeshed(cluster);
  return {
    global: { tlsDisable: !tls },
    injector: {
      image: { repository: mirrorImage('hashicorp/vault-k8s', mirror) },
      agentImage: { repository: mirrorImage('hashicorp/vault', mirror) },
    },
    server: {
      image: { repository: mirrorImage('hashicorp/vault', mirror) },
      affinity: ANTI_AFFINITY,
      serviceAccount: { annotations: roleArn ? { 'eks.amazonaws.com/role-arn': roleArn } : {} },
      extraEnvironmentVars: tls ? { VAULT_CACERT: `${TLS_DIR}/ca.crt` } : {},
      extraVolumes: tls ? [{ type: 'secret', name: VAULT_TLS_SECRET }] : [],
      // Named, not left to a default class: EKS 1.30+ has none (the storage step makes this one).
      ...(dataStorageClass(input) ? { dataStorage: { storageClass: dataStorageClass(input) } } : {}),
      ha: {
        enabled: true,
        replicas: cluster.vault.replicas,
        raft: { enabled: true, setNodeId: true, config: vaultHcl(input) },
      },
    },
  };
}

/** One line per decision, for --dry-run and logs. No secrets: there are none in the values. */
export function vaultValuesSummary(input: VaultValuesInput): string[] {
  const { cluster, kmsAlias, roleArn } = input;
  const n = cluster.vault.replicas;
  const tls = !vaultMeshed(cluster);
  return [
    `  HA on Raft: ${n} replicas, setNodeId, retry_join ${Array.from({ length: n }, (_, i) => `vault-${i}`).join(', ')}`,
    '  pod anti-affinity: required (one server per node)',
    `  Raft volumes: StorageClass ${dataStorageClass(input) ?? '(as installed: the cluster default)'}`,
    kmsAlias
      ? `  seal: awskms ${kmsAlias} (${cluster.aws.region})`
      : '  seal: shamir (no KMS alias: the kms step has not run and vault.kmsAlias is unset)',
    `  server ServiceAccount IRSA role: ${roleArn ?? '(none yet: the iam step has not run)'}`,
    tls
      ? `  TLS: in the pod (Secret ${cluster.vault.namespace}/${VAULT_TLS_SECRET}; namespace not in istio.namespaces)`
      : '  TLS: Istio mTLS (namespace in the mesh), plain HTTP inside the pod',
    `  image: ${mirrorImage('hashicorp/vault', cluster.images.mirror)} (chart default tag)`,
  ];
}
