/**
 * EKS access entries for the seed teams: one entry per IAM principal, tagged as platctl's, with a cluster-wide
 * access policy (cluster admin or view). Also decides whether the cluster can use access entries at all; when
 * it cannot, the access-entries step falls back to the aws-auth ConfigMap (aws-auth-configmap.ts).
 */
import type { AwsClients } from '../clients/aws.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { awsCallFor as awsCall, awsErrorName, awsGet, awsHttpStatus } from './errors.js';
import { eksAccessPolicyArn, type Partition, partitionOf, partitionOfArn } from './partition.js';
import { CLUSTER_TAG, platctlTags } from './tags.js';

/** The access policy for `access.admins`, in the partition's ARN form. */
export const adminPolicy = (p: Partition) => eksAccessPolicyArn(p, 'AmazonEKSClusterAdminPolicy');
/** The access policy for `access.readOnly`, in the partition's ARN form. */
export const viewPolicy = (p: Partition) => eksAccessPolicyArn(p, 'AmazonEKSViewPolicy');

/** How platctl grants access on this cluster. */
export type AccessMode = 'access-entries' | 'aws-auth';

/** One principal and what it should get. */
export interface Grant {
  principal: string;
  role: 'admin' | 'readOnly';
  policy: string;
}

type Ctx = { aws: AwsClients; cluster: ClusterConfig };

const principalPattern = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/;

/**
 * The grants from config: admins win over readOnly for a principal listed twice. Validates the ARNs: IAM role
 * or user ARNs of the cluster's own partition (a GovCloud cluster cannot admit a commercial-partition role).
 */
export function desiredGrants(cluster: ClusterConfig): Grant[] {
  const partition = partitionOf(cluster.aws.region);
  const all = [...cluster.access.admins, ...cluster.access.readOnly];
  const bad = all.filter((a) => !principalPattern.test(a));
  if (bad.length > 0) {
    throw new PlatctlError('CONFIG_INVALID', `access: not IAM role or user ARNs: ${bad.join(', ')}`, {
      hint: `use arn:${partition}:iam::<account>:role/<name> or arn:${partition}:iam::<account>:user/<name> (not assumed-role ARNs)`,
    });
  }
  const foreign = all.filter((a) => partitionOfArn(a) !== partition);
  if (foreign.length > 0) {
    throw new PlatctlError(
      'CONFIG_INVALID',
      `access: ARNs outside the ${partition} partition of ${cluster.aws.region}: ${foreign.join(', ')}`,
      { hint: `a cluster in ${cluster.aws.region} only accepts principals written arn:${partition}:iam::…` },
    );
  }
  const admins = [...new Set(cluster.access.admins)].sort();
  const readOnly = [...new Set(cluster.access.readOnly)].filter((p) => !admins.includes(p)).sort();
  return [
    ...admins.map((principal) => ({ principal, role: 'admin' as const, policy: adminPolicy(partition) })),
    ...readOnly.map((principal) => ({ principal, role: 'readOnly' as const, policy: viewPolicy(partition) })),
  ];
}

/**
 * True when the error says this cluster (or this endpoint) has no access-entry API: the cluster's
 * authenticationMode is CONFIG_MAP, or the endpoint does not implement the operation (moto answers 404 HTML).
 */
export function isAccessEntriesUnsupported(err: unknown): boolean {
  const e = (err as { cause?: unknown }).cause ?? err;
  const name = awsErrorName(e) ?? '';
  const message = String((e as { message?: string }).message ?? '');
  if (name === 'InvalidRequestException' && /authentication ?mode/i.test(message)) return true;
  if (/UnknownOperation|NotImplemented|InvalidAction/.test(name)) return true;
  return awsHttpStatus(e) === 404 && name !== 'ResourceNotFoundException';
}

/**
 * Decides the mode from DescribeCluster's authenticationMode, probing ListAccessEntries when it is not given.
 * Undefined when the cluster does not exist.
 */
export async function detectAccessMode(
  ctx: Ctx,
  clusterName: string,
): Promise<{ mode: AccessMode; reason: string } | undefined> {
  const { DescribeClusterCommand, ListAccessEntriesCommand } = await import('./eks.js');
  const eks = await ctx.aws.eks();
  const described = await awsGet(ctx, 'eks:DescribeCluster', `EKS cluster ${clusterName}`, () =>
    eks.send(new DescribeClusterCommand({ name: clusterName })),
  );
  if (!described?.cluster) return undefined;
  const mode = described.cluster.accessConfig?.authenticationMode;
  if (mode === 'CONFIG_MAP') return { mode: 'aws-auth', reason: 'the cluster authenticationMode is CONFIG_MAP' };
  if (mode) return { mode: 'access-entries', reason: `the cluster authenticationMode is ${mode}` };
  try {
    await awsCall(ctx, 'eks:ListAccessEntries', `EKS cluster ${clusterName}`, () =>
      eks.send(new ListAccessEntriesCommand({ clusterName, maxResults: 1 })),
    );
    return { mode: 'access-entries', reason: 'the EKS API serves access entries' };
  } catch (err) {
    if (isAccessEntriesUnsupported(err))
      return { mode: 'aws-auth', reason: 'the EKS endpoint does not serve access entries' };
    throw err;
  }
}

/** Every principal with an access entry on the cluster (one paginated list; one call for small clusters). */
export async function listEntryPrincipals(ctx: Ctx, clusterName: string): Promise<Set<string>> {
  const { ListAccessEntriesCommand } = await import('./eks.js');
  const eks = await ctx.aws.eks();
  const out = new Set<string>();
  let nextToken: string | undefined;
  do {
    const r = await awsCall(ctx, 'eks:ListAccessEntries', `EKS cluster ${clusterName}`, () =>
      eks.send(new ListAccessEntriesCommand({ clusterName, nextToken })),
    );
    for (const a of r.accessEntries ?? []) out.add(a);
    nextToken = r.nextToken;
  } while (nextToken);
  return out;
}

/** What an access entry looks like now. */
export interface EntryState {
  exists: boolean;
  /** Tagged platctl.io/cluster=<cluster>: platctl made it and may delete it. */
  ours: boolean;
  policies: string[];
}

/** Reads one entry and its associated policies (two reads; one when absent). */
export async function inspectEntry(ctx: Ctx, clusterName: string, principal: string): Promise<EntryState> {
  const { DescribeAccessEntryCommand, ListAssociatedAccessPoliciesCommand } = await import('./eks.js');
  const eks = await ctx.aws.eks();
  const what = `access entry ${principal} on EKS cluster ${clusterName}`;
  const d = await awsGet(ctx, 'eks:DescribeAccessEntry', what, () =>
    eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn: principal })),
  );
  if (!d?.accessEntry) return { exists: false, ours: false, policies: [] };
  const p = await awsCall(ctx, 'eks:ListAssociatedAccessPolicies', what, () =>
    eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName, principalArn: principal })),
  );
  return {
    exists: true,
    ours: d.accessEntry.tags?.[CLUSTER_TAG] === ctx.cluster.name,
    policies: (p.associatedAccessPolicies ?? []).map((x) => x.policyArn ?? ''),
  };
}

/** Creates the entry (tagged) when absent and associates the grant's policy when missing. */
export async function ensureEntry(ctx: Ctx, clusterName: string, grant: Grant, now: EntryState): Promise<void> {
  const { AssociateAccessPolicyCommand, CreateAccessEntryCommand } = await import('./eks.js');
  const eks = await ctx.aws.eks();
  const what = `access entry ${grant.principal} on EKS cluster ${clusterName}`;
  if (!now.exists) {
    await awsCall(ctx, 'eks:CreateAccessEntry', what, () =>
      eks.send(
        new CreateAccessEntryCommand({
          clusterName,
          principalArn: grant.principal,
          type: 'STANDARD',
          tags: platctlTags(ctx.cluster, 'access-entries'),
        }),
      ),
    );
  }
  if (!now.policies.includes(grant.policy)) {
    await awsCall(ctx, 'eks:AssociateAccessPolicy', `${grant.policy} for ${what}`, () =>
      eks.send(
        new AssociateAccessPolicyCommand({
          clusterName,
          principalArn: grant.principal,
          policyArn: grant.policy,
          accessScope: { type: 'cluster' },
        }),
      ),
    );
  }
}

/** Deletes an entry (its policy associations go with it); false when it was already gone. */
export async function deleteEntry(ctx: Ctx, clusterName: string, principal: string): Promise<boolean> {
  const { DeleteAccessEntryCommand } = await import('./eks.js');
  const eks = await ctx.aws.eks();
  const r = await awsGet(ctx, 'eks:DeleteAccessEntry', `access entry ${principal} on EKS cluster ${clusterName}`, () =>
    eks.send(new DeleteAccessEntryCommand({ clusterName, principalArn: principal })),
  );
  return r !== undefined;
}
