/**
 * The names of the cluster variables platctl writes to ConfigMap flux-system/platform-vars for Flux's
 * post-build substitution. They are a stable interface of the fleet repo: never renamed, only added to.
 * Where EKS Blueprints' GitOps Bridge has a name for the same value (`aws_account_id`, `aws_region`,
 * `aws_cluster_name`, `aws_vpc_id`, `<addon>_iam_role_arn`, `<addon>_namespace`, `<addon>_service_account`),
 * platctl uses it, so manifests written for either work with both; the others follow the same snake_case
 * pattern. The values and the step that fills each are in src/vars/catalogue.ts.
 */
import type { IrsaRoleSpec } from '../aws/irsa.js';

/** Where the variables live. */
export const PLATFORM_VARS = { namespace: 'flux-system', name: 'platform-vars' } as const;

/** The GitOps Bridge addon name of each IRSA role platctl makes (`<addon>_iam_role_arn`). */
export const IRSA_ADDONS = {
  vault: 'vault',
  ecrCredentialsSync: 'ecr_credentials_sync',
  certManager: 'cert_manager',
  externalDns: 'external_dns',
  ebsCsi: 'aws_ebs_csi_driver',
  awsLoadBalancerController: 'aws_load_balancer_controller',
} as const satisfies Record<IrsaRoleSpec['key'], string>;

type Addon = (typeof IRSA_ADDONS)[keyof typeof IRSA_ADDONS];
type IrsaVar = `${Addon}_${'iam_role_arn' | 'namespace' | 'service_account'}`;
type KeyVar = `${'vault' | 'ebs'}_kms_key_${'id' | 'arn' | 'alias' | 'alias_arn'}`;

/** Every variable name platctl may write. */
export type PlatformVarName =
  | 'cluster_name'
  | 'aws_account_id'
  | 'aws_partition'
  | 'aws_region'
  | 'aws_cluster_name'
  | 'aws_cluster_endpoint'
  | 'aws_cluster_oidc_issuer'
  | 'aws_vpc_id'
  | 'aws_private_subnet_ids'
  | 'aws_public_subnet_ids'
  | 'aws_cluster_additional_security_group_id'
  | 'aws_node_shared_security_group_id'
  | 'aws_oidc_provider_arn'
  | IrsaVar
  | KeyVar
  | 'ecr_registry'
  | 'ecr_credentials_secret'
  | 'image_mirror'
  | 'istio_chart_repository'
  | 'vault_chart_repository'
  | 'istio_revision'
  | 'istio_revision_tags'
  | 'istio_revision_tag'
  | 'istio_ingress_namespace'
  | 'istio_gateway'
  | 'vault_addr';
