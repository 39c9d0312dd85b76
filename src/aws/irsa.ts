/**
 * IRSA (IAM roles for service accounts): the role catalogue, the naming convention and the trust policy.
 * Pure functions only: the permission policies are in src/aws/irsa-policies.ts, src/aws/iam-ops.ts talks to IAM.
 *
 * Naming: role `eks-<service>-<cluster>` under path `/platctl/<cluster>/` (the seed teams used
 * `eks-<service>-<env>`; one cluster per environment made those the same, platctl keys on the cluster because
 * one account may hold several). IAM caps role names at 64 characters: a longer name keeps its prefix and ends
 * in a 6-hex hash of the cluster name, so it stays unique and stable.
 */
import { createHash } from 'node:crypto';
import type { ClusterConfig } from '../config/schema.js';
import { ecrRegistryOf, syncRegistry } from '../registry/manifests.js';
import {
  doc,
  ebsCsiPolicy,
  ecrPullPolicy,
  type IrsaParams,
  keyUseStatement,
  loadBalancerControllerPolicy,
  zones,
} from './irsa-policies.js';
import { keyAlias } from './kms-ops.js';
import { arn, partitionOf } from './partition.js';
import type { PolicyDocument } from './policy.js';

export type { IrsaParams } from './irsa-policies.js';

/** The audience EKS-issued service-account tokens carry for AWS STS. */
export const STS_AUDIENCE = 'sts.amazonaws.com';
/** The inline policy every platctl role carries. */
export const INLINE_POLICY_NAME = 'platctl';
/** IAM's limit on role names. */
export const ROLE_NAME_MAX = 64;

/** One platform controller's role. */
export interface IrsaRoleSpec {
  /** Output key prefix: `<key>RoleArn`. */
  key: 'vault' | 'ecrCredentialsSync' | 'certManager' | 'externalDns' | 'ebsCsi' | 'awsLoadBalancerController';
  /** The `<service>` in the role name. */
  service: string;
  namespace: string;
  serviceAccount: string;
  /** The inline policy `platctl`. */
  policy(p: IrsaParams): PolicyDocument;
}

/** The role name for a service: `eks-<service>-<cluster>`, hashed down to 64 characters when longer. */
export function roleName(service: string, cluster: string): string {
  const full = `eks-${service}-${cluster}`;
  if (full.length <= ROLE_NAME_MAX) return full;
  const hash = createHash('sha256').update(cluster).digest('hex').slice(0, 6);
  return `${full.slice(0, ROLE_NAME_MAX - hash.length - 1)}-${hash}`;
}

/** The IAM path of every platctl role of a cluster; `ListRoles` on it is the step's one-read check. */
export function rolePath(cluster: string): string {
  return `/platctl/${cluster}/`;
}

/** The ARN a role gets when platctl creates it. */
export function roleArn(p: Pick<IrsaParams, 'partition' | 'accountId' | 'cluster'>, service: string): string {
  return arn(p.partition, 'iam', '', p.accountId, `role${rolePath(p.cluster)}${roleName(service, p.cluster)}`);
}

/** The issuer without its scheme ("oidc.eks.us-east-1.amazonaws.com/id/ABC"), as IAM condition keys use it. */
export function issuerHostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/** The ARN of the IAM OIDC provider for an issuer. */
export function oidcProviderArn(p: Pick<IrsaParams, 'partition' | 'accountId'>, issuer: string): string {
  return arn(p.partition, 'iam', '', p.accountId, `oidc-provider/${issuerHostPath(issuer)}`);
}

/** The trust policy: only this service account, with the STS audience, may assume the role. */
export function trustPolicy(providerArn: string, issuer: string, namespace: string, sa: string): PolicyDocument {
  const host = issuerHostPath(issuer);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AssumeFromServiceAccount',
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${host}:sub`]: `system:serviceaccount:${namespace}:${sa}`, [`${host}:aud`]: STS_AUDIENCE },
        },
      },
    ],
  };
}

/** The catalogue: one role per platform controller. */
export function irsaRoles(cluster: ClusterConfig): IrsaRoleSpec[] {
  return [
    {
      key: 'vault',
      service: 'vault',
      namespace: cluster.vault.namespace,
      serviceAccount: 'vault',
      policy: (p) =>
        doc(keyUseStatement('VaultAutoUnseal', p, p.vaultKeyAlias, ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'])),
    },
    {
      key: 'ecrCredentialsSync',
      service: 'ecr-credentials-sync',
      namespace: 'flux-system',
      serviceAccount: 'ecr-credentials-sync',
      policy: ecrPullPolicy,
    },
    {
      key: 'certManager',
      service: 'cert-manager',
      namespace: 'cert-manager',
      serviceAccount: 'cert-manager',
      policy: (p) =>
        doc(
          {
            Sid: 'Changes',
            Effect: 'Allow',
            Action: 'route53:GetChange',
            Resource: arn(p.partition, 'route53', '', '', 'change/*'),
          },
          {
            Sid: 'Records',
            Effect: 'Allow',
            Action: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets'],
            Resource: zones(p),
          },
          { Sid: 'Zones', Effect: 'Allow', Action: 'route53:ListHostedZonesByName', Resource: '*' },
        ),
    },
    {
      key: 'externalDns',
      service: 'external-dns',
      namespace: 'external-dns',
      serviceAccount: 'external-dns',
      policy: (p) =>
        doc(
          { Sid: 'Records', Effect: 'Allow', Action: 'route53:ChangeResourceRecordSets', Resource: zones(p) },
          {
            Sid: 'Read',
            Effect: 'Allow',
            Action: ['route53:ListHostedZones', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'],
            Resource: '*',
          },
        ),
    },
    {
      key: 'ebsCsi',
      service: 'ebs-csi',
      namespace: 'kube-system',
      serviceAccount: 'ebs-csi-controller-sa',
      policy: ebsCsiPolicy,
    },
    {
      key: 'awsLoadBalancerController',
      service: 'aws-load-balancer-controller',
      namespace: 'kube-system',
      serviceAccount: 'aws-load-balancer-controller',
      policy: loadBalancerControllerPolicy,
    },
  ];
}

/** The parameters policy builders get for a cluster. */
export function irsaParams(cluster: ClusterConfig): IrsaParams {
  return {
    cluster: cluster.name,
    accountId: cluster.aws.accountId,
    region: cluster.aws.region,
    partition: partitionOf(cluster.aws.region),
    vaultKeyAlias: keyAlias(cluster, 'vault'),
    ebsKeyAlias: keyAlias(cluster, 'ebs'),
    ecrRegistry: ecrRegistryOf(syncRegistry(cluster.aws.accountId, cluster.aws.region, cluster.images.mirror)),
  };
}
