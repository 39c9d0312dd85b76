/**
 * The permission policies of the IRSA roles (src/aws/irsa.ts holds the catalogue that uses them). Each is
 * written for its controller's documented needs; KMS use is always granted through `kms:ResourceAliases`.
 */
import { arn, type Partition } from './partition.js';
import type { PolicyDocument, PolicyStatement } from './policy.js';

/** What a policy builder may use. */
export interface IrsaParams {
  cluster: string;
  accountId: string;
  region: string;
  partition: Partition;
  vaultKeyAlias: string;
  ebsKeyAlias: string;
  /** The ECR registry the credentials sync writes its Secret for (the account's, or an ECR mirror's). */
  ecrRegistry: { accountId: string; region: string };
}

/** A policy document of these statements. */
export const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

/**
 * Use of a key through its alias: IAM never matches an alias ARN in `Resource`, so the resource is every key of
 * the account and region and the condition `kms:ResourceAliases` (multi-valued, hence ForAnyValue) picks the key.
 */
export function keyUseStatement(sid: string, p: IrsaParams, alias: string, actions: string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: actions,
    Resource: arn(p.partition, 'kms', p.region, p.accountId, 'key/*'),
    Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias } },
  };
}

/** Every Route53 hosted zone of the partition. */
export const zones = (p: IrsaParams) => arn(p.partition, 'route53', '', '', 'hostedzone/*');
const ec2 = (p: IrsaParams, type: string) => arn(p.partition, 'ec2', '*', '*', `${type}/*`);

/**
 * The ECR credentials sync. An ECR token carries its caller's permissions, so the role that fetches it must
 * also hold the pull actions: `GetAuthorizationToken` has no resource (ECR docs: Resource "*"), the three read
 * actions are scoped to the repositories of the one registry the Secret is for.
 */
export function ecrPullPolicy(p: IrsaParams): PolicyDocument {
  const { accountId, region } = p.ecrRegistry;
  return doc(
    { Sid: 'EcrToken', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    {
      Sid: 'EcrPull',
      Effect: 'Allow',
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      Resource: arn(p.partition, 'ecr', region, accountId, 'repository/*'),
    },
  );
}

/** Modelled on AmazonEBSCSIDriverPolicy, plus use of the cluster's EBS key (alias …/ebs). */
export function ebsCsiPolicy(p: IrsaParams): PolicyDocument {
  const volumes = [ec2(p, 'volume'), ec2(p, 'snapshot')];
  return doc(
    {
      Sid: 'Describe',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeAvailabilityZones',
        'ec2:DescribeInstances',
        'ec2:DescribeSnapshots',
        'ec2:DescribeTags',
        'ec2:DescribeVolumes',
        'ec2:DescribeVolumesModifications',
      ],
      Resource: '*',
    },
    {
      Sid: 'Attach',
      Effect: 'Allow',
      Action: ['ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:ModifyVolume', 'ec2:CreateSnapshot'],
      Resource: [ec2(p, 'instance'), ...volumes],
    },
    {
      Sid: 'CreateTagged',
      Effect: 'Allow',
      Action: 'ec2:CreateVolume',
      Resource: volumes,
      Condition: { StringLike: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true' } },
    },
    {
      Sid: 'TagOnCreate',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: volumes,
      Condition: { StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'CreateSnapshot'] } },
    },
    {
      Sid: 'DeleteOwn',
      Effect: 'Allow',
      Action: ['ec2:DeleteVolume', 'ec2:DeleteSnapshot'],
      Resource: volumes,
      Condition: { StringLike: { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' } },
    },
    keyUseStatement('EbsKeyUse', p, p.ebsKeyAlias, [
      'kms:Encrypt',
      'kms:Decrypt',
      'kms:ReEncrypt*',
      'kms:GenerateDataKey*',
      'kms:DescribeKey',
    ]),
    {
      ...keyUseStatement('EbsKeyGrants', p, p.ebsKeyAlias, ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant']),
      Condition: {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': p.ebsKeyAlias },
        Bool: { 'kms:GrantIsForAWSResource': true },
      },
    },
  );
}

/** A condensed form of the AWS Load Balancer Controller's published policy (see docs/steps/iam.md). */
export function loadBalancerControllerPolicy(p: IrsaParams): PolicyDocument {
  return doc(
    {
      Sid: 'ServiceLinkedRole',
      Effect: 'Allow',
      Action: 'iam:CreateServiceLinkedRole',
      Resource: '*',
      Condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    },
    {
      Sid: 'Read',
      Effect: 'Allow',
      Action: [
        'ec2:Describe*',
        'ec2:GetSecurityGroupsForVpc',
        'elasticloadbalancing:Describe*',
        'acm:ListCertificates',
        'acm:DescribeCertificate',
        'iam:ListServerCertificates',
        'iam:GetServerCertificate',
        'wafv2:GetWebACL',
        'wafv2:GetWebACLForResource',
        'shield:GetSubscriptionState',
        'cognito-idp:DescribeUserPoolClient',
      ],
      Resource: '*',
    },
    {
      Sid: 'SecurityGroups',
      Effect: 'Allow',
      Action: [
        'ec2:CreateSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:DeleteSecurityGroup',
        'ec2:CreateTags',
        'ec2:DeleteTags',
      ],
      Resource: [ec2(p, 'security-group'), ec2(p, 'vpc')],
    },
    {
      Sid: 'LoadBalancers',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:Create*',
        'elasticloadbalancing:Delete*',
        'elasticloadbalancing:Modify*',
        'elasticloadbalancing:Set*',
        'elasticloadbalancing:AddTags',
        'elasticloadbalancing:RemoveTags',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates',
        'wafv2:AssociateWebACL',
        'wafv2:DisassociateWebACL',
      ],
      Resource: '*',
    },
  );
}
