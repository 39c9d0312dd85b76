/** The Resource Groups Tagging API client and the commands platctl sends, re-exported by name so esbuild drops the rest (see src/aws/ec2.ts). */
export {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
