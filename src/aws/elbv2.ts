/** The ELBv2 (ALB/NLB) client and the commands platctl sends, re-exported by name so esbuild drops the rest (see src/aws/ec2.ts). */
export {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
