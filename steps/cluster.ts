/**
 * Step `cluster`: the VPC, the EKS cluster and its node group, made by Terraform/OpenTofu from the bundled
 * module (templates/terraform/eks) or the config's terraform.module, in ~/.platctl/<cluster>/terraform.
 * The cheap check is one DescribeCluster; the deep check (first run, changed inputs, --verify) is a plan.
 * See docs/steps/cluster.md.
 */
import { assertAccount } from '../src/aws/account.js';
import { awsGet } from '../src/aws/errors.js';
import { PlatctlError } from '../src/errors.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { crashPoint } from '../src/test-seams.js';
import { createTerraform, isStalePlanError, type PlanResult, type Terraform } from '../src/tools/terraform.js';
import { summaryLine } from '../src/tools/terraform-plan.js';
import { moduleHash, terraformVariables } from '../src/tools/terraform-workdir.js';

/**
 * The cluster step's outputs: every cluster module must provide these (snake_case in terraform, camelCase in
 * state). A module's extra outputs are recorded too, untyped.
 */
export const readClusterOutputs = outputReader('cluster', {
  clusterName: 'string',
  endpoint: 'string',
  oidcIssuer: 'string',
  vpcId: 'string',
  clusterAdditionalSecurityGroupId: 'string',
  nodeSharedSecurityGroupId: 'string',
  privateSubnetIds: 'strings',
  publicSubnetIds: 'strings',
});

/** The EKS cluster's name: what the cluster step recorded, else the config's name. */
export const eksClusterName = (ctx: Pick<StepContext, 'cluster' | 'outputs'>): string =>
  readClusterOutputs(ctx).clusterName ?? ctx.cluster.name;

// One Terraform per step context: the check's plan is reused by apply in the same run.
const runners = new WeakMap<StepContext, Terraform>();
const terraformFor = (ctx: StepContext): Terraform => {
  let tf = runners.get(ctx);
  if (!tf) {
    tf = createTerraform({ exec: ctx.exec, cluster: ctx.cluster });
    runners.set(ctx, tf);
  }
  return tf;
};

async function describeCluster(ctx: StepContext, name: string) {
  const { DescribeClusterCommand } = await import('../src/aws/eks.js');
  const eks = await ctx.aws.eks();
  const r = await awsGet(ctx, 'eks:DescribeCluster', `EKS cluster ${name}`, () =>
    eks.send(new DescribeClusterCommand({ name })),
  );
  return r?.cluster;
}

function planResult(plan: PlanResult): CheckResult {
  const s = plan.summary ?? { add: 0, change: 0, destroy: 0, resources: [], outputsOnly: true };
  const fresh = s.add > 0 && s.change === 0 && s.destroy === 0;
  return { status: fresh ? 'absent' : 'drift', detail: `terraform: ${summaryLine(s)}`, changes: s.resources };
}

/** Outputs from terraform, warning about any the module does not provide. */
async function readOutputs(ctx: StepContext, tf: Terraform): Promise<StepOutputs> {
  const outputs = await tf.outputs();
  const typed = readClusterOutputs.of(outputs);
  const missing = Object.keys(readClusterOutputs.shape).filter((k) => !(k in typed));
  if (missing.length > 0) ctx.log.warning(`the terraform module has no value for output(s): ${missing.join(', ')}`);
  return outputs;
}

/** Plans, shows the summary, asks, applies (re-planning once if the saved plan went stale). */
async function planAndApply(ctx: StepContext, tf: Terraform, reuse?: PlanResult): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const plan = reuse ?? (await tf.plan());
    reuse = undefined;
    tf.lastPlan = undefined;
    if (!plan.changes || !plan.summary) return;
    const line = summaryLine(plan.summary);
    ctx.log.info(`terraform plan for ${ctx.cluster.name}: ${line}`);
    for (const r of plan.summary.resources) ctx.log.info(`  ${r}`);
    if (!(await ctx.prompt.confirm(`Apply the terraform plan for cluster ${ctx.cluster.name} (${line})?`))) {
      throw new PlatctlError('ABORTED', `terraform apply for cluster ${ctx.cluster.name} aborted: nothing was changed`);
    }
    crashPoint('cluster', 'before-apply');
    try {
      await tf.apply(plan.planFile, (m) => ctx.progress(m));
      return;
    } catch (err) {
      if (attempt > 0 || !isStalePlanError(err)) throw err;
      ctx.log.warning('the saved terraform plan is stale (the state changed): planning again');
    }
  }
}

/** The `cluster` step. */
export const clusterStep: Step = {
  id: 'cluster',
  title: 'EKS cluster (terraform)',

  inputs(ctx) {
    const tf = ctx.cluster.terraform;
    return {
      binary: tf.binary,
      module: tf.module,
      moduleHash: moduleHash(tf.module),
      variables: terraformVariables(ctx.cluster),
      backend: tf.backend,
      accountId: ctx.cluster.aws.accountId,
      profile: ctx.cluster.aws.profile,
    };
  },

  async check(ctx) {
    await assertAccount(ctx.aws, ctx.cluster);
    if (!ctx.deep) {
      // State says done with these inputs: confirm the cluster still exists (one read), skip the plan.
      const name = eksClusterName(ctx);
      const c = await describeCluster(ctx, name);
      if (!c) {
        return { status: 'drift', detail: `EKS cluster ${name} no longer exists`, changes: [`+ EKS cluster ${name}`] };
      }
      if (c.status === 'FAILED' || c.status === 'DELETING') {
        return { status: 'drift', detail: `EKS cluster ${name} is ${c.status}`, changes: [`~ EKS cluster ${name}`] };
      }
      return { status: 'up-to-date', detail: `EKS cluster ${name} is ${c.status} (run with --verify to plan)` };
    }
    const tf = terraformFor(ctx);
    const plan = await tf.plan({ lock: !ctx.dryRun });
    if (!plan.changes) {
      return { status: 'up-to-date', detail: 'terraform: no changes', outputs: await readOutputs(ctx, tf) };
    }
    return planResult(plan);
  },

  async apply(ctx) {
    const tf = terraformFor(ctx);
    await planAndApply(ctx, tf, tf.lastPlan);
    const outputs = await readOutputs(ctx, tf);
    ctx.log.success(`EKS cluster ${readClusterOutputs.of(outputs).clusterName ?? ctx.cluster.name} applied`);
    return outputs;
  },

  async destroy(ctx) {
    await assertAccount(ctx.aws, ctx.cluster);
    const tf = terraformFor(ctx);
    ctx.log.action(`terraform destroy for cluster ${ctx.cluster.name}`);
    await tf.destroy((m) => ctx.progress(m));
    // A lost local state makes destroy a silent no-op: say so rather than report success.
    const name = eksClusterName(ctx);
    const left = await describeCluster(ctx, name);
    if (left && left.status !== 'DELETING') {
      throw new PlatctlError(
        'TERRAFORM_STATE_LOST',
        `terraform destroy finished but EKS cluster ${name} still exists`,
        {
          hint: `the terraform state no longer lists it: check terraform.backend and ${tf.stateHint()}`,
        },
      );
    }
    ctx.log.success(`terraform destroyed cluster ${name}`);
  },
};
