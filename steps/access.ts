/**
 * Step `access`: how platctl (and the user) reach the cluster's API. With `kubernetes.access: eks` it reads
 * DescribeCluster (waiting while CREATING) and writes a kubeconfig entry whose exec plugin is
 * `platctl eks token`; with `kubeconfig` (the lab, or a cluster reached some other way) it checks that the
 * configured kubeconfig and context reach the API. After this step the engine moves state into the cluster.
 * See docs/steps/access.md.
 */
import type { Cluster } from '@aws-sdk/client-eks';
import { assertAccount } from '../src/aws/account.js';
import { awsGet } from '../src/aws/errors.js';
import { PlatctlError } from '../src/errors.js';
import {
  hasKubeconfigEntry,
  type KubeconfigEntry,
  kubeconfigPath,
  mergeKubeconfigEntry,
  readKubeconfigEntry,
  removeKubeconfigEntry,
} from '../src/kubeconfig.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { Step, StepContext } from '../src/step.js';
import { eksClusterName } from './cluster.js';

/** The access step's outputs: where the cluster's API is (the kube target follows them). */
export const readAccessOutputs = outputReader('access', { kubeconfig: 'string', context: 'string', server: 'string' });

/** How long apply waits for a CREATING cluster (EKS takes ~10 minutes). */
export const CREATE_TIMEOUT_MS = 30 * 60_000;
const POLL_MS = 15_000;

/** Where the entry goes: the requested kubeconfig (--kubeconfig, else the config), else KUBECONFIG, ~/.kube/config. */
export function targetKubeconfig(ctx: StepContext): string {
  return kubeconfigPath(ctx.kubeTarget.requested.kubeconfig);
}

/** The context platctl's entry is named: the requested one (--context, else the config), else the cluster's name. */
const entryContext = (ctx: StepContext) => ctx.kubeTarget.requested.context ?? ctx.cluster.name;

async function describe(ctx: StepContext, name: string): Promise<Cluster | undefined> {
  const { DescribeClusterCommand } = await import('../src/aws/eks.js');
  const eks = await ctx.aws.eks();
  const r = await awsGet(ctx, 'eks:DescribeCluster', `EKS cluster ${name}`, () =>
    eks.send(new DescribeClusterCommand({ name })),
  );
  return r?.cluster;
}

/** The kubeconfig entry for a described cluster. */
export function entryFor(ctx: StepContext, c: Cluster): KubeconfigEntry {
  if (!c.endpoint || !c.certificateAuthority?.data || !c.arn) {
    throw new PlatctlError('AWS_API', `EKS cluster ${c.name} has no endpoint or CA yet (status ${c.status})`);
  }
  return {
    context: entryContext(ctx),
    name: c.arn,
    server: c.endpoint,
    caData: c.certificateAuthority.data,
    cluster: c.name ?? ctx.cluster.name,
    region: ctx.cluster.aws.region,
    profile: ctx.cluster.aws.profile,
  };
}

/** Waits while the cluster is CREATING (progress every poll); fails on FAILED, DELETING or absence. */
async function waitActive(ctx: StepContext, name: string, sleep = POLL_MS): Promise<Cluster> {
  const started = Date.now();
  for (;;) {
    const c = await describe(ctx, name);
    if (!c) {
      throw new PlatctlError('EKS_CLUSTER_MISSING', `EKS cluster ${name} does not exist`, {
        hint: 'run the cluster step first: platctl bootstrap <cluster> --from cluster',
      });
    }
    if (c.status === 'ACTIVE' || c.status === 'UPDATING') return c;
    if (c.status !== 'CREATING' && c.status !== 'PENDING') {
      throw new PlatctlError('EKS_CLUSTER_UNHEALTHY', `EKS cluster ${name} is ${c.status}`, {
        hint: 'look at the cluster in the EKS console (health issues), fix it or re-create it with the cluster step',
      });
    }
    const waited = Date.now() - started;
    if (waited > CREATE_TIMEOUT_MS) {
      throw new PlatctlError(
        'EKS_CLUSTER_UNHEALTHY',
        `EKS cluster ${name} still ${c.status} after ${Math.round(waited / 60_000)} min`,
      );
    }
    ctx.progress(`EKS cluster ${name} is ${c.status} (${Math.round(waited / 1000)}s)`);
    await new Promise((r) => setTimeout(r, sleep));
  }
}

/** kubeconfig mode: one read through the requested kubeconfig/context; returns the outputs. */
async function probeKubeconfig(ctx: StepContext): Promise<StepOutputs> {
  const file = targetKubeconfig(ctx);
  let context = ctx.kubeTarget.requested.context;
  const kube = await ctx.kubeAt({ kubeconfig: file, context });
  await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' });
  if (!context) {
    const { parse } = await import('yaml');
    const { readFile } = await import('node:fs/promises');
    context = String((parse(await readFile(file, 'utf8')) as { 'current-context'?: string })['current-context'] ?? '');
  }
  return { kubeconfig: file, context, server: kube.server };
}

/** The `access` step. */
export const accessStep: Step = {
  id: 'access',
  title: 'Kubernetes access (kubeconfig)',
  movesStateToCluster: true,

  inputs(ctx) {
    const { requested } = ctx.kubeTarget;
    return {
      access: ctx.cluster.kubernetes.access,
      kubeconfig: requested.kubeconfig,
      context: requested.context,
      region: ctx.cluster.aws.region,
      profile: ctx.cluster.aws.profile,
      cluster: eksClusterName(ctx),
    };
  },

  async check(ctx) {
    if (ctx.cluster.kubernetes.access === 'kubeconfig') {
      const outputs = await probeKubeconfig(ctx);
      return {
        status: 'up-to-date',
        detail: `the API at ${outputs.server} answers (context ${outputs.context})`,
        outputs,
      };
    }
    await assertAccount(ctx.aws, ctx.cluster);
    const name = eksClusterName(ctx);
    const file = targetKubeconfig(ctx);
    const c = await describe(ctx, name);
    if (!c)
      return {
        status: 'absent',
        detail: `EKS cluster ${name} does not exist yet`,
        changes: [`+ kubeconfig entry ${name}`],
      };
    if (c.status !== 'ACTIVE' && c.status !== 'UPDATING') {
      return {
        status: 'absent',
        detail: `EKS cluster ${name} is ${c.status}`,
        changes: [`+ kubeconfig entry ${name} in ${file}`],
      };
    }
    const entry = entryFor(ctx, c);
    if (await hasKubeconfigEntry(file, entry)) {
      return {
        status: 'up-to-date',
        detail: `kubeconfig ${file} context ${entry.context} is up to date`,
        outputs: { kubeconfig: file, context: entry.context, server: entry.server },
      };
    }
    const present = await readKubeconfigEntry(file, entry.context);
    return present
      ? {
          status: 'drift',
          detail: `kubeconfig ${file} context ${entry.context} differs from EKS`,
          changes: [`~ kubeconfig entry ${entry.context}`],
        }
      : {
          status: 'absent',
          detail: `no kubeconfig entry ${entry.context} in ${file}`,
          changes: [`+ kubeconfig entry ${entry.context}`],
        };
  },

  async apply(ctx) {
    if (ctx.cluster.kubernetes.access === 'kubeconfig') return probeKubeconfig(ctx);
    const name = eksClusterName(ctx);
    const c = await waitActive(ctx, name);
    const entry = entryFor(ctx, c);
    const file = targetKubeconfig(ctx);
    await mergeKubeconfigEntry(file, entry);
    ctx.log.created(`kubeconfig ${file}: context ${entry.context} → ${entry.server}`);
    return { kubeconfig: file, context: entry.context, server: entry.server };
  },

  async destroy(ctx) {
    if (ctx.cluster.kubernetes.access === 'kubeconfig') return;
    const recorded = readAccessOutputs(ctx);
    const file = recorded.kubeconfig ?? targetKubeconfig(ctx);
    const context = recorded.context ?? entryContext(ctx);
    if (await removeKubeconfigEntry(file, context, eksClusterName(ctx)))
      ctx.log.success(`removed context ${context} from ${file}`);
    else ctx.log.info(`kubeconfig ${file} has no entry of platctl's for ${context}: nothing to remove`);
  },
};

/** Exposed for tests: the CREATING wait with a custom poll interval. */
export const waitForActive = waitActive;
