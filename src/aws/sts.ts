/** The STS client and the commands platctl sends, re-exported by name so esbuild drops the rest (see src/aws/ec2.ts). */
export {
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
