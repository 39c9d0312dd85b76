/**
 * The orphan report: every AWS resource still tagged platctl.io/cluster=<name> once teardown is done. It must
 * be empty. The Resource Groups Tagging API finds most types; the ones it does not cover are looked up
 * directly and merged in by ARN:
 *
 * | type | how | why not the tagging API |
 * | --- | --- | --- |
 * | everything else (EC2 security groups, ENIs, KMS keys, ELB, …) | `tag:GetResources` | - |
 * | `iam:role` | `iam:ListRoles` + `iam:ListRoleTags` | GetResources does not support IAM roles (AWS docs) |
 * | `iam:oidc-provider` | `iam:ListOpenIDConnectProviders` + `iam:ListOpenIDConnectProviderTags` | IAM is global; moto does not report it |
 * | `iam:policy` (customer managed) | `iam:ListPolicies` (Local) + `iam:ListPolicyTags` | as above |
 * | `ec2:security-group-rule` | `ec2:DescribeSecurityGroupRules` with a tag filter | moto does not report it |
 * | `eks:cluster` | `eks:ListClusters` + `eks:DescribeCluster` | moto does not report it |
 *
 * KMS keys pending deletion are left out: ScheduleKeyDeletion is how teardown deletes a key (7+ day window),
 * so a scheduled key is gone as intended. Each KMS key found is checked with DescribeKey.
 */

import type { DescribeKeyCommandOutput } from '@aws-sdk/client-kms';
import { awsCall, isAccessDenied, isAwsError } from '../aws/errors.js';
import { mapLimit } from '../aws/parallel.js';
import { CLUSTER_TAG } from '../aws/tags.js';
import type { AwsClients } from '../clients/aws.js';
import { taggedArns } from './cloud.js';
import { confirmExisting } from './confirm.js';

/** One AWS resource still tagged for the cluster. */
export interface Orphan {
  arn: string;
  /** `<service>:<resource type>` from the ARN, e.g. `iam:role`, `ec2:security-group`, `kms:key`. */
  type: string;
}

/** KMS key states that mean "deleted as intended". */
const SCHEDULED = new Set(['PendingDeletion', 'PendingReplicaDeletion']);
/** IAM calls in flight at once: IAM throttles hard. */
const IAM_CONCURRENCY = 5;

/** `<service>:<resource type>` of an ARN: arn:aws:iam::1:role/x → iam:role, arn:aws:ec2:r:1:security-group/sg-1 → ec2:security-group. */
export function arnType(arn: string): string {
  const parts = arn.split(':');
  const resource = parts.slice(5).join(':');
  return `${parts[2] ?? 'unknown'}:${resource.split(/[/:]/)[0] ?? ''}`;
}

type TagList = { Key?: string; Value?: string }[] | undefined;
const hasTag = (tags: TagList, cluster: string) =>
  (tags ?? []).some((t) => t.Key === CLUSTER_TAG && t.Value === cluster);
/** Tag lookups may race a delete: a resource gone in between is simply not an orphan. */
const gone = (err: unknown) =>
  isAwsError(err, 'NoSuchEntity', 'NotFoundException', 'ResourceNotFoundException', 'InvalidGroup.NotFound');

/** Runs `fn`, returning undefined when the resource vanished meanwhile. */
async function unlessGone<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (gone(err) || gone((err as { cause?: unknown }).cause)) return undefined;
    throw err;
  }
}

async function iamRoles(aws: AwsClients, cluster: string): Promise<string[]> {
  const { ListRolesCommand, ListRoleTagsCommand } = await import('../aws/iam.js');
  const iam = await aws.iam();
  const roles: { name: string; arn: string }[] = [];
  let Marker: string | undefined;
  do {
    const page = await awsCall({ action: 'iam:ListRoles', resource: '*' }, () =>
      iam.send(new ListRolesCommand({ Marker })),
    );
    for (const r of page.Roles ?? []) if (r.RoleName && r.Arn) roles.push({ name: r.RoleName, arn: r.Arn });
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  const tagged = await mapLimit(roles, IAM_CONCURRENCY, (r) =>
    unlessGone(() =>
      awsCall({ action: 'iam:ListRoleTags', resource: `role ${r.name}` }, () =>
        iam.send(new ListRoleTagsCommand({ RoleName: r.name })),
      ),
    ).then((t) => (hasTag(t?.Tags, cluster) ? r.arn : undefined)),
  );
  return tagged.filter((a): a is string => a !== undefined);
}

async function oidcProviders(aws: AwsClients, cluster: string): Promise<string[]> {
  const { ListOpenIDConnectProvidersCommand, ListOpenIDConnectProviderTagsCommand } = await import('../aws/iam.js');
  const iam = await aws.iam();
  const list = await awsCall({ action: 'iam:ListOpenIDConnectProviders', resource: '*' }, () =>
    iam.send(new ListOpenIDConnectProvidersCommand({})),
  );
  const arns = (list.OpenIDConnectProviderList ?? []).map((p) => p.Arn).filter((a): a is string => Boolean(a));
  const tagged = await mapLimit(arns, IAM_CONCURRENCY, (arn) =>
    unlessGone(() =>
      awsCall({ action: 'iam:ListOpenIDConnectProviderTags', resource: arn }, () =>
        iam.send(new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn })),
      ),
    ).then((t) => (hasTag(t?.Tags, cluster) ? arn : undefined)),
  );
  return tagged.filter((a): a is string => a !== undefined);
}

async function iamPolicies(aws: AwsClients, cluster: string): Promise<string[]> {
  const { ListPoliciesCommand, ListPolicyTagsCommand } = await import('../aws/iam.js');
  const iam = await aws.iam();
  const arns: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await awsCall({ action: 'iam:ListPolicies', resource: 'customer managed policies' }, () =>
      iam.send(new ListPoliciesCommand({ Scope: 'Local', Marker })),
    );
    for (const p of page.Policies ?? []) if (p.Arn) arns.push(p.Arn);
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  const tagged = await mapLimit(arns, IAM_CONCURRENCY, (arn) =>
    unlessGone(() =>
      awsCall({ action: 'iam:ListPolicyTags', resource: arn }, () =>
        iam.send(new ListPolicyTagsCommand({ PolicyArn: arn })),
      ),
    ).then((t) => (hasTag(t?.Tags, cluster) ? arn : undefined)),
  );
  return tagged.filter((a): a is string => a !== undefined);
}

async function securityGroupRules(aws: AwsClients, cluster: string): Promise<string[]> {
  const { DescribeSecurityGroupRulesCommand } = await import('../aws/ec2.js');
  const ec2 = await aws.ec2();
  const rules: { id: string; arn?: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await awsCall(
      { action: 'ec2:DescribeSecurityGroupRules', resource: `rules tagged ${CLUSTER_TAG}` },
      () =>
        ec2.send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [{ Name: `tag:${CLUSTER_TAG}`, Values: [cluster] }],
            NextToken,
          }),
        ),
    );
    for (const r of page.SecurityGroupRules ?? [])
      if (r.SecurityGroupRuleId) rules.push({ id: r.SecurityGroupRuleId, arn: r.SecurityGroupRuleArn });
    NextToken = page.NextToken;
  } while (NextToken);
  if (rules.every((r) => r.arn)) return rules.map((r) => r.arn as string);
  // Older endpoints (and moto) leave SecurityGroupRuleArn out: build it from the caller's account.
  const { GetCallerIdentityCommand } = await import('../aws/sts.js');
  const sts = await aws.sts();
  const id = await awsCall({ action: 'sts:GetCallerIdentity', resource: 'caller' }, () =>
    sts.send(new GetCallerIdentityCommand({})),
  );
  const partition = id.Arn?.split(':')[1] ?? 'aws';
  return rules.map((r) => r.arn ?? `arn:${partition}:ec2:${aws.region}:${id.Account}:security-group-rule/${r.id}`);
}

async function eksClusters(aws: AwsClients, cluster: string): Promise<string[]> {
  const { ListClustersCommand, DescribeClusterCommand } = await import('../aws/eks.js');
  const eks = await aws.eks();
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall({ action: 'eks:ListClusters', resource: '*' }, () =>
      eks.send(new ListClustersCommand({ nextToken })),
    );
    names.push(...(page.clusters ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const found = await mapLimit(names, IAM_CONCURRENCY, (name) =>
    unlessGone(() =>
      awsCall({ action: 'eks:DescribeCluster', resource: `cluster ${name}` }, () =>
        eks.send(new DescribeClusterCommand({ name })),
      ),
    ).then((d) => (d?.cluster?.tags?.[CLUSTER_TAG] === cluster ? d.cluster.arn : undefined)),
  );
  return found.filter((a): a is string => a !== undefined);
}

/** True unless the KMS key is scheduled for deletion (or already gone). */
async function kmsKeyLive(aws: AwsClients, arn: string): Promise<boolean> {
  const { DescribeKeyCommand } = await import('../aws/kms.js');
  const kms = await aws.kms();
  let d: DescribeKeyCommandOutput | undefined;
  try {
    d = await unlessGone(() =>
      awsCall({ action: 'kms:DescribeKey', resource: arn }, () => kms.send(new DescribeKeyCommand({ KeyId: arn }))),
    );
  } catch (err) {
    // Tagged for the cluster but not readable (a key policy that does not delegate to IAM): report it rather
    // than stop the teardown; whoever reads the report can check it with the key's own admins.
    if (isAccessDenied(err) || isAccessDenied((err as { cause?: unknown }).cause)) return true;
    throw err;
  }
  const state = d?.KeyMetadata?.KeyState;
  return state !== undefined && !SCHEDULED.has(state);
}

/**
 * Every AWS resource still tagged platctl.io/cluster=<cluster> in the account (IAM) and region (the rest),
 * sorted by type then ARN, KMS keys pending deletion left out. After a complete teardown it is empty.
 */
export async function orphanReport(aws: AwsClients, cluster: string): Promise<Orphan[]> {
  const sources = await Promise.all([
    // The tagging API can list what was deleted minutes ago: each ARN is confirmed with its own service.
    taggedArns(aws, CLUSTER_TAG, [cluster]).then(async (r) => {
      const arns = r.map((x) => x.arn);
      const there = await confirmExisting(aws, arns);
      return arns.filter((_, i) => there[i]);
    }),
    iamRoles(aws, cluster),
    oidcProviders(aws, cluster),
    iamPolicies(aws, cluster),
    securityGroupRules(aws, cluster),
    eksClusters(aws, cluster),
  ]);
  const arns = [...new Set(sources.flat())];
  const keep = await mapLimit(arns, 5, (arn) =>
    arnType(arn) === 'kms:key' ? kmsKeyLive(aws, arn) : Promise.resolve(true),
  );
  return arns
    .filter((_, i) => keep[i])
    .map((arn) => ({ arn, type: arnType(arn) }))
    .sort((a, b) => a.type.localeCompare(b.type) || a.arn.localeCompare(b.arn));
}
