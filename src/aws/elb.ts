/**
 * The Classic ELB client and the one command platctl sends, re-exported by name so esbuild drops the rest of
 * the package (see src/aws/ec2.ts).
 */
export { DescribeLoadBalancersCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
