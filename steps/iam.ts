/**
 * Step `iam`: IRSA. The IAM OIDC provider for the cluster's issuer and one role per platform controller (vault,
 * ecr-credentials-sync, cert-manager, external-dns, ebs-csi, aws-load-balancer-controller), each trusting only its
 * service account. Roles are independent, so they are created and checked in parallel, bounded by
 * PLATCTL_IAM_CONCURRENCY (default 8). See docs/steps/iam.md.
 */
import { assertAccount } from '../src/aws/account.js';
import { awsCall } from '../src/aws/errors.js';
import {
  deleteProvider,
  deleteRole,
  ensureProvider,
  ensureRole,
  type IamPlan,
  inspectProvider,
  inspectRole,
  listClusterRoles,
  planIam,
  trustDrift,
} from '../src/aws/iam-ops.js';
import { issuerHostPath, rolePath } from '../src/aws/irsa.js';
import { concurrencyFromEnv, mapLimit } from '../src/aws/parallel.js';
import { PlatctlError } from '../src/errors.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { crashPoint } from '../src/test-seams.js';
import { readClusterOutputs } from './cluster.js';

/** Environment variable bounding concurrent IAM calls. */
export const IAM_CONCURRENCY_ENV = 'PLATCTL_IAM_CONCURRENCY';
/** Default bound: IAM's control plane throttles well before this matters. */
export const DEFAULT_IAM_CONCURRENCY = 8;

/** Options for {@link applyIam} and {@link destroyIam} (the bench compares concurrency N with 1). */
export interface IamRunOptions {
  concurrency?: number;
}

const concurrency = (o: IamRunOptions) =>
  o.concurrency ?? concurrencyFromEnv(IAM_CONCURRENCY_ENV, DEFAULT_IAM_CONCURRENCY);

/** The iam step's outputs: the OIDC provider and one role ARN per platform controller (`<key>RoleArn`). */
export const readIamOutputs = outputReader('iam', {
  oidcProviderArn: 'string',
  vaultRoleArn: 'string',
  ecrCredentialsSyncRoleArn: 'string',
  certManagerRoleArn: 'string',
  externalDnsRoleArn: 'string',
  ebsCsiRoleArn: 'string',
  awsLoadBalancerControllerRoleArn: 'string',
});

/** The cluster's OIDC issuer from the cluster step's outputs, if recorded. */
function issuerOf(ctx: StepContext): string | undefined {
  const v = readClusterOutputs(ctx).oidcIssuer;
  return v?.startsWith('https://') ? v : undefined;
}

function requirePlan(ctx: StepContext): IamPlan {
  const issuer = issuerOf(ctx);
  if (!issuer)
    throw new PlatctlError(
      'CLUSTER_OUTPUT_MISSING',
      `no OIDC issuer for cluster ${ctx.cluster.name}: the cluster step recorded no oidcIssuer`,
      {
        hint: 'run the cluster step first (platctl bootstrap --only cluster), or check its terraform outputs',
      },
    );
  return planIam(ctx.cluster, issuer);
}

/** The step's outputs from role ARNs keyed by role name. */
function outputsOf(plan: IamPlan, arns: Map<string, string>): StepOutputs {
  const roles = Object.fromEntries(plan.roles.map((r) => [`${r.spec.key}RoleArn` as const, arns.get(r.name)]));
  return readIamOutputs.record({ oidcProviderArn: plan.providerArn, ...roles });
}

const summarise = (changes: string[]) =>
  changes.length === 1 ? (changes[0] ?? '') : `${changes[0]} (and ${changes.length - 1} more)`;

/** Cheap check: ONE read, ListRoles on /platctl/<cluster>/ (presence and trust policy of every role). */
async function cheapCheck(ctx: StepContext, plan: IamPlan): Promise<CheckResult> {
  const iam = await ctx.aws.iam();
  const roles = await awsCall({ action: 'iam:ListRoles', resource: `roles under path ${rolePath(plan.cluster)}` }, () =>
    listClusterRoles(iam, plan.cluster),
  );
  const arns = new Map<string, string>();
  const changes: string[] = [];
  for (const want of plan.roles) {
    const found = roles.find((r) => r.RoleName === want.name);
    if (!found) changes.push(`+ IAM role ${want.name}`);
    else {
      arns.set(want.name, found.Arn ?? '');
      for (const d of trustDrift(want, found.AssumeRolePolicyDocument)) changes.push(`~ IAM role ${want.name} ${d}`);
    }
  }
  if (changes.length === 0)
    return {
      status: 'up-to-date',
      detail: `${plan.roles.length} IRSA roles up to date`,
      outputs: outputsOf(plan, arns),
    };
  return { status: arns.size === 0 ? 'absent' : 'drift', detail: summarise(changes), changes };
}

/** Deep check: the provider, then every role's trust policy, inline policy and tags, in parallel. */
async function deepCheck(ctx: StepContext, plan: IamPlan, o: IamRunOptions = {}): Promise<CheckResult> {
  const iam = await ctx.aws.iam();
  const provider = await awsCall({ action: 'iam:GetOpenIDConnectProvider', resource: plan.providerArn }, () =>
    inspectProvider(iam, plan),
  );
  const statuses = await mapLimit(plan.roles, concurrency(o), (r) =>
    awsCall({ action: 'iam:GetRole', resource: `role ${r.name}` }, () => inspectRole(iam, r, plan.tags)),
  );
  const host = issuerHostPath(plan.issuer);
  const changes = provider.exists
    ? provider.drift.map((d) => `~ IAM OIDC provider ${host}: ${d}`)
    : [`+ IAM OIDC provider ${host}`];
  const arns = new Map<string, string>();
  for (const s of statuses) {
    if (!s.arn) changes.push(`+ IAM role ${s.role.name}`);
    else {
      arns.set(s.role.name, s.arn);
      for (const d of s.drift) changes.push(`~ IAM role ${s.role.name} ${d}`);
    }
  }
  if (changes.length === 0)
    return {
      status: 'up-to-date',
      detail: `OIDC provider and ${plan.roles.length} IRSA roles up to date`,
      outputs: outputsOf(plan, arns),
    };
  return { status: !provider.exists && arns.size === 0 ? 'absent' : 'drift', detail: summarise(changes), changes };
}

/** Creates or fixes the provider and every role; exported for the bench (concurrency N vs 1). */
export async function applyIam(ctx: StepContext, o: IamRunOptions = {}): Promise<StepOutputs> {
  const plan = requirePlan(ctx);
  const me = await assertAccount(ctx.aws, ctx.cluster);
  const iam = await ctx.aws.iam();
  const host = issuerHostPath(plan.issuer);
  for (const w of await ensureProvider(iam, plan, me.arn)) {
    if (w === 'created') ctx.log.created(`IAM OIDC provider ${host}`);
    else ctx.log.success(`IAM OIDC provider ${host}: added ${w}`);
  }
  crashPoint('iam', 'after-provider');
  const arns = new Map<string, string>();
  let done = 0;
  await mapLimit(plan.roles, concurrency(o), async (r) => {
    const { arn, wrote } = await ensureRole(iam, r, plan.tags, me.arn);
    arns.set(r.name, arn);
    if (wrote.includes('created')) ctx.log.created(`IAM role ${r.name}`);
    else if (wrote.length) ctx.log.success(`IAM role ${r.name}: updated ${wrote.join(', ')}`);
    ctx.progress(`IAM roles: ${++done}/${plan.roles.length}`);
    // Some roles made, others in flight or not started: the resume must adopt, never duplicate.
    if (done === 1) crashPoint('iam', 'after-first-role');
  });
  return outputsOf(plan, arns);
}

/** Deletes every platctl role of the cluster (catalogue and anything else under its path), then the provider. */
export async function destroyIam(ctx: StepContext, o: IamRunOptions = {}): Promise<void> {
  const me = await assertAccount(ctx.aws, ctx.cluster);
  const iam = await ctx.aws.iam();
  const issuer = issuerOf(ctx);
  const plan = planIam(ctx.cluster, issuer ?? 'https://unknown.invalid');
  const listed = await awsCall(
    { action: 'iam:ListRoles', resource: `roles under path ${rolePath(plan.cluster)}`, principal: me.arn },
    () => listClusterRoles(iam, plan.cluster),
  );
  const names = [
    ...new Set([...plan.roles.map((r) => r.name), ...listed.map((r) => r.RoleName ?? '').filter(Boolean)]),
  ];
  await mapLimit(names, concurrency(o), async (name) => {
    const result = await deleteRole(iam, name, plan.cluster, me.arn);
    if (result === 'deleted') ctx.log.success(`IAM role ${name} deleted`);
    if (result === 'not ours')
      ctx.log.warning(`IAM role ${name} is not tagged for cluster ${plan.cluster}: left alone`);
  });
  if (!issuer) {
    ctx.log.warning('no OIDC issuer recorded by the cluster step: the IAM OIDC provider (if any) is left alone');
    return;
  }
  const result = await deleteProvider(iam, plan, me.arn);
  if (result === 'deleted') ctx.log.success(`IAM OIDC provider ${issuerHostPath(issuer)} deleted`);
  if (result === 'not ours')
    ctx.log.info(`IAM OIDC provider ${issuerHostPath(issuer)} was adopted, not created: left to its owner`);
}

/** The `iam` step. */
export const iamStep: Step = {
  id: 'iam',
  title: 'IAM roles for service accounts',
  inputs: (ctx) => ({
    cluster: ctx.cluster.name,
    accountId: ctx.cluster.aws.accountId,
    region: ctx.cluster.aws.region,
    tags: ctx.cluster.aws.tags,
    vault: { namespace: ctx.cluster.vault.namespace, kmsAlias: ctx.cluster.vault.kmsAlias },
    issuer: issuerOf(ctx),
  }),
  async check(ctx) {
    const issuer = issuerOf(ctx);
    if (!issuer)
      return {
        status: 'absent',
        detail: 'waiting for the cluster OIDC issuer (the cluster step has not recorded oidcIssuer)',
        changes: ['+ IAM OIDC provider and IRSA roles'],
      };
    const plan = planIam(ctx.cluster, issuer);
    return ctx.deep ? deepCheck(ctx, plan) : cheapCheck(ctx, plan);
  },
  apply: (ctx) => applyIam(ctx),
  destroy: (ctx) => destroyIam(ctx),
};
