/**
 * Whether the cluster enforces NetworkPolicies. On EKS that is the VPC CNI's network policy agent, which runs
 * only when the vpc-cni add-on's configuration says `enableNetworkPolicy: "true"` (the bundled module sets it).
 * add-tenant promises isolation in both directions, so `doctor` and `status --verify` warn when it is off.
 */
import type { AwsClients } from '../clients/aws.js';
import type { ClusterConfig } from '../config/schema.js';
import { awsCallFor, awsGet, awsHttpStatus, isAwsError } from './errors.js';

/** What the add-on says about network policy enforcement. */
export interface NetworkPolicyState {
  /** on: enforced; off: the add-on has it off; unknown: no vpc-cni add-on (self-managed CNI); absent: no cluster. */
  state: 'on' | 'off' | 'unknown' | 'absent';
  detail: string;
}

/** The fix, for warnings. */
export const NETWORK_POLICY_FIX =
  'set the vpc-cni add-on configuration to {"enableNetworkPolicy": "true"} (the bundled terraform module does; ' +
  'aws eks update-addon --cluster-name <name> --addon-name vpc-cni --configuration-values ' +
  '\'{"enableNetworkPolicy":"true"}\')';

/** Reads `enableNetworkPolicy` from configuration values (EKS accepts JSON or YAML); undefined when unset. */
export async function enableNetworkPolicy(configurationValues: string | undefined): Promise<boolean | undefined> {
  if (!configurationValues?.trim()) return undefined;
  const { parse } = await import('yaml');
  let values: unknown;
  try {
    values = parse(configurationValues);
  } catch {
    return undefined;
  }
  const v = (values as { enableNetworkPolicy?: unknown } | null)?.enableNetworkPolicy;
  if (v === undefined) return undefined;
  return v === true || v === 'true';
}

/** One EKS DescribeAddon for vpc-cni on the cluster; its configurationValues decide. */
export async function networkPolicyState(
  ctx: { aws: AwsClients; cluster: ClusterConfig },
  clusterName: string,
): Promise<NetworkPolicyState> {
  const { DescribeAddonCommand, DescribeClusterCommand } = await import('./eks.js');
  const eks = await ctx.aws.eks();
  let values: string | undefined;
  try {
    const r = await awsCallFor(ctx, 'eks:DescribeAddon', `add-on vpc-cni of EKS cluster ${clusterName}`, () =>
      eks.send(new DescribeAddonCommand({ clusterName, addonName: 'vpc-cni' })),
    );
    values = r.addon?.configurationValues;
  } catch (err) {
    if (!isAwsError(err, 'ResourceNotFoundException')) {
      // An endpoint without the add-on API (moto, in the lab) answers 404 without an AWS error code.
      if (awsHttpStatus((err as { cause?: unknown }).cause ?? err) === 404)
        return { state: 'unknown', detail: `the EKS endpoint does not serve add-ons (DescribeAddon): not checked` };
      throw err;
    }
    const cluster = await awsGet(ctx, 'eks:DescribeCluster', `EKS cluster ${clusterName}`, () =>
      eks.send(new DescribeClusterCommand({ name: clusterName })),
    );
    if (!cluster?.cluster) return { state: 'absent', detail: `EKS cluster ${clusterName} does not exist yet` };
    return {
      state: 'unknown',
      detail: `EKS cluster ${clusterName} has no vpc-cni add-on (a self-managed CNI): check that aws-node's aws-network-policy-agent runs with --enable-network-policy=true`,
    };
  }
  const on = await enableNetworkPolicy(values);
  return on
    ? { state: 'on', detail: 'vpc-cni add-on: enableNetworkPolicy "true"' }
    : {
        state: 'off',
        detail: `vpc-cni add-on of ${clusterName} has enableNetworkPolicy ${on === false ? 'off' : 'unset (off)'}: NetworkPolicies, tenant isolation included, are not enforced`,
      };
}
