/**
 * The tagging convention: every AWS object platctl creates carries platctl.io/cluster=<name> and
 * platctl.io/step=<id> (plus the config's aws.tags), so teardown and the orphan report can find it.
 */
import type { ClusterConfig } from '../config/schema.js';

/** Tag key naming the cluster. */
export const CLUSTER_TAG = 'platctl.io/cluster';
/** Tag key naming the step that made the object. */
export const STEP_TAG = 'platctl.io/step';

/** Tags as a plain record. */
export function platctlTags(cluster: ClusterConfig, step: string): Record<string, string> {
  return { ...cluster.aws.tags, [CLUSTER_TAG]: cluster.name, [STEP_TAG]: step };
}

/** Tags in the SDK's `[{Key, Value}]` shape (IAM, EC2, ELB). */
export function tagList(cluster: ClusterConfig, step: string): { Key: string; Value: string }[] {
  return Object.entries(platctlTags(cluster, step)).map(([Key, Value]) => ({ Key, Value }));
}

/** Tags in KMS's `[{TagKey, TagValue}]` shape. */
export function kmsTagList(cluster: ClusterConfig, step: string): { TagKey: string; TagValue: string }[] {
  return Object.entries(platctlTags(cluster, step)).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}
