/**
 * The EC2 client and the few commands platctl sends, re-exported by name. Import this module (lazily), not
 * '@aws-sdk/client-ec2': a dynamic import of the package keeps every one of EC2's operations in the bundle
 * (~2 MB, ~0.4 s to load), while named re-exports let esbuild drop the rest.
 */
export {
  AuthorizeSecurityGroupIngressCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
