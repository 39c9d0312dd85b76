/** The individual checks behind `platctl doctor`. */

import type { GlobalOptions } from '../cli-options.js';
import type { Exec } from '../clients/exec.js';
import { requestedKubeTarget } from '../clients/kube-target.js';
import type { ClusterConfig } from '../config/schema.js';

/** One row of the doctor table. */
export interface Check {
  name: string;
  ok: boolean;
  required: boolean;
  detail: string;
}

/** Finds each external tool on PATH and checks its version (ssh is optional: git can use another ssh client). */
export async function checkTools(exec: Exec): Promise<Check[]> {
  const { probeTool, toolSpecs } = await import('../tools/versions.js');
  return Promise.all(toolSpecs().map(async (t) => ({ ...(await probeTool(exec, t)), required: t.name !== 'ssh' })));
}

/**
 * With `fleet.provider` gitea or github: is the token's variable set? Its value is never shown (only whether
 * it is there). Undefined for `ssh`, which needs no token.
 */
export async function checkGitHostToken(
  cluster: ClusterConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Check | undefined> {
  const { gitHostSettings } = await import('../githost/provider.js');
  const s = gitHostSettings(cluster);
  if (!s) return undefined;
  const repo = `${s.repo.owner}/${s.repo.name}`;
  const set = Boolean(env[s.tokenVar]?.trim());
  return {
    name: 'git host token',
    ok: set,
    required: true,
    detail: set
      ? `${s.tokenVar} is set (fleet.provider ${s.provider}, ${s.apiUrl})`
      : `${s.tokenVar} is not set: fleet.provider ${s.provider} needs a token with admin rights on ${repo}, from the environment only`,
  };
}

/** STS GetCallerIdentity with the default credential chain; compares the account with the config's. */
export async function checkAws(cluster?: ClusterConfig): Promise<Check> {
  const region = cluster?.aws.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const { createAwsClients } = await import('../clients/aws.js');
  const { GetCallerIdentityCommand } = await import('../aws/sts.js');
  const { timeoutsOf } = await import('../clients/timeouts.js');
  const { setNoticeInterval } = await import('../clients/waiting.js');
  const timeouts = timeoutsOf(cluster);
  setNoticeInterval(timeouts.noticeMs);
  const sts = await createAwsClients({ region, profile: cluster?.aws.profile, timeouts }).sts();
  const id = await sts.send(new GetCallerIdentityCommand({}));
  const mismatch = cluster && id.Account !== cluster.aws.accountId;
  return {
    name: 'aws credentials',
    ok: !mismatch,
    required: true,
    detail: mismatch ? `account ${id.Account} but config says ${cluster.aws.accountId}` : `${id.Arn} (${region})`,
  };
}

/**
 * Whether the cluster enforces NetworkPolicies (the vpc-cni add-on's enableNetworkPolicy): a warning row, since
 * add-tenant's isolation depends on it. Fine when the cluster does not exist yet.
 */
export async function checkNetworkPolicy(cluster: ClusterConfig): Promise<Check> {
  const { createAwsClients } = await import('../clients/aws.js');
  const { networkPolicyState, NETWORK_POLICY_FIX } = await import('../aws/vpc-cni.js');
  const { timeoutsOf } = await import('../clients/timeouts.js');
  const aws = createAwsClients({
    region: cluster.aws.region,
    profile: cluster.aws.profile,
    timeouts: timeoutsOf(cluster),
  });
  const r = await networkPolicyState({ aws, cluster }, cluster.name);
  const ok = r.state === 'on' || r.state === 'absent';
  return {
    name: 'network policy',
    ok,
    required: false,
    detail: r.state === 'off' ? `${r.detail}; ${NETWORK_POLICY_FIX}` : r.detail,
  };
}

/** Reads namespace kube-system through the configured kubeconfig/context. */
export async function checkKube(flags: GlobalOptions, cluster?: ClusterConfig): Promise<Check> {
  const { connectKube } = await import('../clients/kube.js');
  const target = requestedKubeTarget(flags, cluster?.kubernetes ?? {});
  const kube = await connectKube(target);
  await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' });
  return { name: 'kubernetes', ok: true, required: false, detail: `reachable at ${kube.server}` };
}
