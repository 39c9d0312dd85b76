/**
 * The cluster variables: for each name (src/vars/names.ts), where its value comes from — platform.yaml, or
 * the recorded outputs of the step that makes the thing — and how it is computed. Pure: the same function
 * gives what the `vars` step writes and what `platctl status --vars` prints. A variable whose step has not
 * recorded a value (or that does not apply, such as `image_mirror` without a mirror) is left out, so
 * `${var:=default}` and Flux's strict mode both see it as unset. Nothing here is a secret.
 */

import { readClusterOutputs } from '../../steps/cluster.js';
import { readIamOutputs } from '../../steps/iam.js';
import { readIstioOutputs } from '../../steps/istio.js';
import { readKmsOutputs } from '../../steps/kms.js';
import { readRegistryOutputs } from '../../steps/registry.js';
import { readVaultOutputs } from '../../steps/vault.js';
import { irsaRoles } from '../aws/irsa.js';
import type { KeyPurpose } from '../aws/kms-ops.js';
import { partitionOf } from '../aws/partition.js';
import type { ClusterConfig } from '../config/schema.js';
import { chartRepository } from '../flux/adoption.js';
import { configRevision, GATEWAY_NAMESPACE } from '../istio/revision.js';
import { ECR_SYNC, ecrRegistryHost } from '../registry/manifests.js';
import type { OutputSource } from '../state/outputs.js';
import { VAULT_RELEASE, vaultMeshed } from '../vault/values.js';
import { IRSA_ADDONS, type PlatformVarName } from './names.js';

/** What the values are computed from: the config and the recorded step outputs (a step context, or state). */
export type VarSource = OutputSource & { cluster: ClusterConfig };

/** One variable: its name, who fills it, what it is, and its value (undefined: not known or not applicable). */
export interface PlatformVar {
  name: PlatformVarName;
  /** The step whose outputs fill it, or `config` for values platform.yaml determines. */
  step: string;
  description: string;
  value(from: VarSource): string | undefined;
}

const v = (name: PlatformVarName, step: string, description: string, value: PlatformVar['value']): PlatformVar => ({
  name,
  step,
  description,
  value,
});
const list = (xs: string[] | undefined) => (xs && xs.length > 0 ? xs.join(',') : undefined);

const kmsVars = (purpose: KeyPurpose, what: string): PlatformVar[] => {
  const key = (from: VarSource) => {
    const o = readKmsOutputs(from);
    return purpose === 'vault'
      ? // The alias Vault's seal names: the kms step's, else vault.kmsAlias (as the vault step decides).
        { id: o.vaultKeyId, arn: o.vaultKeyArn, alias: o.vaultKeyAlias ?? from.cluster.vault.kmsAlias }
      : { id: o.ebsKeyId, arn: o.ebsKeyArn, alias: o.ebsKeyAlias };
  };
  const aliasArn = (from: VarSource) => {
    const alias = key(from).alias;
    const { region, accountId } = from.cluster.aws;
    return alias && `arn:${partitionOf(region)}:kms:${region}:${accountId}:${alias}`;
  };
  return [
    v(`${purpose}_kms_key_id`, 'kms', `id of the ${what} key`, (f) => key(f).id),
    v(`${purpose}_kms_key_arn`, 'kms', `ARN of the ${what} key`, (f) => key(f).arn),
    v(`${purpose}_kms_key_alias`, 'kms', `alias of the ${what} key`, (f) => key(f).alias),
    v(`${purpose}_kms_key_alias_arn`, 'kms', `ARN of that alias`, aliasArn),
  ];
};

/** IRSA: per role, its ARN (iam step) and the ServiceAccount its trust policy names. */
function irsaVars(): PlatformVar[] {
  const specs = (from: VarSource) => irsaRoles(from.cluster);
  return Object.entries(IRSA_ADDONS).flatMap(([key, addon]) => {
    const spec = (from: VarSource) => specs(from).find((s) => s.key === key);
    return [
      v(
        `${addon}_iam_role_arn`,
        'iam',
        `IRSA role of ${addon.replaceAll('_', '-')}`,
        (f) => readIamOutputs(f)[`${key}RoleArn` as keyof ReturnType<typeof readIamOutputs>],
      ),
      v(`${addon}_namespace`, 'iam', 'namespace of the ServiceAccount that role trusts', (f) => spec(f)?.namespace),
      v(`${addon}_service_account`, 'iam', 'the ServiceAccount that role trusts', (f) => spec(f)?.serviceAccount),
    ];
  });
}

/** Every variable, in the order they are documented and printed. */
export const PLATFORM_VAR_CATALOGUE: readonly PlatformVar[] = [
  v('cluster_name', 'config', "platctl's cluster name (`clusters/<name>` in the fleet repo)", (f) => f.cluster.name),
  v('aws_account_id', 'config', 'AWS account id (quote it in YAML: it is all digits)', (f) => f.cluster.aws.accountId),
  v('aws_partition', 'config', 'AWS partition of the region (aws, aws-cn, aws-us-gov)', (f) =>
    partitionOf(f.cluster.aws.region),
  ),
  v('aws_region', 'config', 'AWS region', (f) => f.cluster.aws.region),
  v('aws_cluster_name', 'cluster', 'EKS cluster name', (f) => readClusterOutputs(f).clusterName),
  v('aws_cluster_endpoint', 'cluster', 'Kubernetes API endpoint', (f) => readClusterOutputs(f).endpoint),
  v('aws_cluster_oidc_issuer', 'cluster', 'OIDC issuer URL (IRSA)', (f) => readClusterOutputs(f).oidcIssuer),
  v('aws_vpc_id', 'cluster', 'the VPC', (f) => readClusterOutputs(f).vpcId),
  v('aws_private_subnet_ids', 'cluster', 'private subnets, one per zone, comma-separated', (f) =>
    list(readClusterOutputs(f).privateSubnetIds),
  ),
  v('aws_public_subnet_ids', 'cluster', 'public subnets, one per zone, comma-separated', (f) =>
    list(readClusterOutputs(f).publicSubnetIds),
  ),
  v(
    'aws_cluster_additional_security_group_id',
    'cluster',
    "the control plane ENIs' additional security group",
    (f) => readClusterOutputs(f).clusterAdditionalSecurityGroupId,
  ),
  v(
    'aws_node_shared_security_group_id',
    'cluster',
    'the security group shared by every node',
    (f) => readClusterOutputs(f).nodeSharedSecurityGroupId,
  ),
  v('aws_oidc_provider_arn', 'iam', 'IAM OIDC provider of the issuer', (f) => readIamOutputs(f).oidcProviderArn),
  ...irsaVars(),
  ...kmsVars('vault', 'Vault auto-unseal'),
  ...kmsVars('ebs', 'EBS encryption'),
  v('ecr_registry', 'config', "the account's ECR registry host", (f) =>
    ecrRegistryHost(f.cluster.aws.accountId, f.cluster.aws.region),
  ),
  v('ecr_credentials_secret', 'registry', 'docker-registry Secret in flux-system the ECR sync refreshes', (f) =>
    readRegistryOutputs(f).ecrCredentialsSyncRoleArn ? ECR_SYNC.secretName : undefined,
  ),
  v('image_mirror', 'config', 'images.mirror, when set', (f) => f.cluster.images.mirror),
  v(
    'istio_chart_repository',
    'config',
    'chart repository Flux pulls the adopted Istio charts from',
    (f) => chartRepository(f.cluster, 'istio').url,
  ),
  v(
    'vault_chart_repository',
    'config',
    'chart repository Flux pulls the adopted Vault chart from',
    (f) => chartRepository(f.cluster, 'vault').url,
  ),
  v('istio_revision', 'istio', 'the istiod revision (1-30-3)', (f) => istio(f).revision),
  v('istio_revision_tags', 'istio', 'its revision tags, comma-separated', (f) => list(istio(f).tags)),
  v('istio_revision_tag', 'istio', 'the `istio.io/rev` value namespaces use (first tag, else the revision)', (f) => {
    const i = istio(f);
    return i.tags[0] ?? i.revision;
  }),
  v('istio_ingress_namespace', 'istio', "the ingress gateway's namespace", (f) =>
    readIstioOutputs(f).revision ? GATEWAY_NAMESPACE : undefined,
  ),
  v(
    'istio_gateway',
    'config',
    'the ops Gateway tenants bind to, as `<namespace>/<name>`',
    (f) => `${GATEWAY_NAMESPACE}/${f.cluster.istio.gateway}`,
  ),
  v('vault_addr', 'vault', "Vault's address inside the cluster", (f) => {
    const vault = readVaultOutputs(f);
    if (!vault.namespace) return undefined;
    const scheme = vaultMeshed(f.cluster) ? 'http' : 'https';
    return `${scheme}://${vault.release ?? VAULT_RELEASE}.${vault.namespace}.svc:8200`;
  }),
];

/** Istio as installed: the istio step's outputs, else what the config asks for (as the adoption does). */
function istio(from: VarSource): { revision: string; tags: string[] } {
  const o = readIstioOutputs(from);
  return { revision: o.revision ?? configRevision(from.cluster), tags: o.tags ?? from.cluster.istio.tags };
}

/** The variables with a value, in catalogue order. */
export function platformVars(from: VarSource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pv of PLATFORM_VAR_CATALOGUE) {
    const value = pv.value(from);
    if (value !== undefined && value !== '') out[pv.name] = value;
  }
  return out;
}

/** Variables a complete bootstrap fills but these outputs leave unset, grouped by the step that fills them. */
export function unsetVars(from: VarSource): Map<string, PlatformVarName[]> {
  const optional = new Set<PlatformVarName>(['image_mirror']);
  const out = new Map<string, PlatformVarName[]>();
  for (const pv of PLATFORM_VAR_CATALOGUE) {
    if (optional.has(pv.name) || pv.value(from)) continue;
    out.set(pv.step, [...(out.get(pv.step) ?? []), pv.name]);
  }
  return out;
}
