/**
 * AWS partitions. Every ARN and every endpoint platctl builds comes from the partition of the cluster's region:
 * `aws` (commercial), `aws-cn` (China) and `aws-us-gov` (GovCloud). The isolated partitions (`us-iso-*`,
 * `us-isob-*`, `us-isof-*`, `eu-isoe-*`) are refused at config time: their endpoints, DNS suffixes and service
 * set (EKS access policies, public ECR, the Helm and Flux sources platctl installs from) differ, and nothing
 * here has been proven against them.
 */

/** A partition platctl supports. */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** Every supported partition, for tests and docs. */
export const PARTITIONS: readonly Partition[] = ['aws', 'aws-cn', 'aws-us-gov'];

/** True for a region of an isolated (ISO) partition, which platctl does not support. */
export function isIsolatedRegion(region: string): boolean {
  return /^[a-z]{2}-iso[a-z]?-/.test(region);
}

/** The partition of a region. Throws for an ISO region (config validation rejects those first). */
export function partitionOf(region: string): Partition {
  if (isIsolatedRegion(region))
    throw new Error(`region ${region} is in an isolated AWS partition, which platctl does not support`);
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The DNS suffix of a partition's service endpoints. */
export function dnsSuffix(partition: Partition): string {
  return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** The partition of an ARN (`arn:<partition>:…`), or undefined when it is not an ARN. */
export function partitionOfArn(arn: string): string | undefined {
  return /^arn:([a-z-]+):/.exec(arn)?.[1];
}

/** An ARN: `arn:<partition>:<service>:<region>:<account>:<resource>` (region and account may be empty). */
export function arn(partition: Partition, service: string, region: string, account: string, resource: string): string {
  return `arn:${partition}:${service}:${region}:${account}:${resource}`;
}

/** An EKS cluster access policy (`AmazonEKSClusterAdminPolicy`, `AmazonEKSViewPolicy`, …) of a partition. */
export function eksAccessPolicyArn(partition: Partition, name: string): string {
  return arn(partition, 'eks', '', 'aws', `cluster-access-policy/${name}`);
}
