/** The EKS client and the commands platctl sends, re-exported by name so esbuild drops the rest (see src/aws/ec2.ts). */
export {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  EKSClient,
  ListAccessEntriesCommand,
  ListAssociatedAccessPoliciesCommand,
  ListClustersCommand,
} from '@aws-sdk/client-eks';
