/**
 * Step `access-entries`: the seed teams' user management. `access.admins` and `access.readOnly` (IAM role or
 * user ARNs) become EKS access entries with the cluster-admin or view access policy, tagged as platctl's; on
 * clusters without access entries (authenticationMode CONFIG_MAP, or an endpoint that lacks the API) they
 * become platctl-marked aws-auth ConfigMap entries instead. Destroy removes only what platctl added.
 * See docs/steps/access-entries.md.
 */
import { assertAccount } from '../src/aws/account.js';
import {
  applyAwsAuth,
  awsAuthArn,
  planAwsAuth,
  READ_ONLY_BINDING,
  readAwsAuth,
  readOnlyBinding,
} from '../src/aws/aws-auth.js';
import {
  type AccessMode,
  deleteEntry,
  desiredGrants,
  detectAccessMode,
  ensureEntry,
  type Grant,
  inspectEntry,
  listEntryPrincipals,
} from '../src/aws/eks-access.js';
import { PlatctlError } from '../src/errors.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { eksClusterName } from './cluster.js';

const STEP = 'access-entries';

/** The access-entries step's outputs: the mode, and the principals platctl added (only those are removed). */
export const readAccessEntriesOutputs = outputReader(STEP, { mode: 'string', admins: 'strings', readOnly: 'strings' });

/** The principals platctl recorded as added, by role. */
function recorded(ctx: StepContext): { admins: string[]; readOnly: string[]; mode?: AccessMode } {
  const o = readAccessEntriesOutputs(ctx);
  const mode = o.mode === 'access-entries' || o.mode === 'aws-auth' ? o.mode : undefined;
  return { admins: o.admins ?? [], readOnly: o.readOnly ?? [], mode };
}

/** Outputs listing the grants platctl owns. */
function outputsFor(mode: AccessMode, owned: Grant[]): StepOutputs {
  return readAccessEntriesOutputs.record({
    mode,
    admins: owned.filter((g) => g.role === 'admin').map((g) => g.principal),
    readOnly: owned.filter((g) => g.role === 'readOnly').map((g) => g.principal),
  });
}

/** The mode: recorded (cheap check) or detected; undefined when the EKS cluster does not exist (yet). */
async function modeFor(ctx: StepContext): Promise<AccessMode | undefined> {
  const r = recorded(ctx);
  if (r.mode && !ctx.deep) return r.mode;
  const found = await detectAccessMode(ctx, eksClusterName(ctx));
  if (found) ctx.log.debug(`access-entries: using ${found.mode} (${found.reason})`);
  return found?.mode;
}

/** The mode for apply: the cluster must exist. */
async function requireMode(ctx: StepContext): Promise<AccessMode> {
  const mode = await modeFor({ ...ctx, deep: true });
  if (!mode) {
    throw new PlatctlError('EKS_CLUSTER_MISSING', `EKS cluster ${eksClusterName(ctx)} does not exist`, {
      hint: 'run the cluster step first: platctl bootstrap <cluster> --from cluster',
    });
  }
  return mode;
}

/** EKS API mode: what is missing (deep: per entry; cheap: one list). */
async function checkEntries(ctx: StepContext, grants: Grant[]): Promise<CheckResult> {
  const name = eksClusterName(ctx);
  const r = recorded(ctx);
  const stale = [...r.admins, ...r.readOnly].filter((p) => !grants.some((g) => g.principal === p));
  if (!ctx.deep) {
    const present = await listEntryPrincipals(ctx, name);
    const missing = grants.filter((g) => !present.has(g.principal));
    const gone = stale.filter((p) => present.has(p));
    const changes = [
      ...missing.map((g) => `+ access entry ${g.principal} (${g.role})`),
      ...gone.map((p) => `- access entry ${p}`),
    ];
    return changes.length === 0
      ? { status: 'up-to-date', detail: `${grants.length} access entries up to date` }
      : { status: 'drift', detail: `${changes.length} access entries to change`, changes };
  }
  const changes: string[] = [];
  const owned: Grant[] = [];
  for (const g of grants) {
    const e = await inspectEntry(ctx, name, g.principal);
    if (!e.exists) changes.push(`+ access entry ${g.principal} (${g.role})`);
    else if (!e.policies.includes(g.policy)) changes.push(`~ access entry ${g.principal}: associate ${g.policy}`);
    if (e.exists && e.ours) owned.push(g);
  }
  for (const p of stale) {
    const e = await inspectEntry(ctx, name, p);
    if (e.exists && e.ours) changes.push(`- access entry ${p}`);
  }
  if (changes.length > 0)
    return {
      status: owned.length === 0 && stale.length === 0 ? 'absent' : 'drift',
      detail: `${changes.length} access entries to change`,
      changes,
    };
  return {
    status: 'up-to-date',
    detail: `${grants.length} access entries up to date`,
    outputs: outputsFor('access-entries', owned),
  };
}

/** aws-auth mode: one read of the ConfigMap (plus the read-only binding on a deep check). */
async function checkAwsAuth(ctx: StepContext, grants: Grant[]): Promise<CheckResult> {
  const kube = await ctx.kube();
  const state = await readAwsAuth(kube);
  const plan = planAwsAuth(state, grants);
  const changes = [...plan.changes];
  const needsBinding = grants.some((g) => g.role === 'readOnly');
  if (ctx.deep && needsBinding && !(await kube.get(READ_ONLY_BINDING)))
    changes.push(`+ ClusterRoleBinding ${READ_ONLY_BINDING.name}`);
  for (const f of plan.foreign) ctx.log.warning(`aws-auth already maps ${f} (not platctl's entry): left as it is`);
  if (changes.length > 0) {
    return {
      status: state.managed.length === 0 ? 'absent' : 'drift',
      detail: `aws-auth: ${changes.length} change(s)`,
      changes,
    };
  }
  const owned = grants.filter((g) => plan.managed.includes(awsAuthArn(g.principal)));
  return {
    status: 'up-to-date',
    detail: `aws-auth: ${owned.length} platctl entries up to date`,
    outputs: outputsFor('aws-auth', owned),
  };
}

/** The `access-entries` step. */
export const accessEntriesStep: Step = {
  id: STEP,
  title: 'Cluster access for admins and read-only users',

  inputs(ctx) {
    return {
      admins: [...ctx.cluster.access.admins].sort(),
      readOnly: [...ctx.cluster.access.readOnly].sort(),
      cluster: eksClusterName(ctx),
    };
  },

  async check(ctx) {
    const grants = desiredGrants(ctx.cluster);
    const r = recorded(ctx);
    if (grants.length === 0 && r.admins.length + r.readOnly.length === 0) {
      return {
        status: 'up-to-date',
        detail: 'no access.admins or access.readOnly configured',
        outputs: { admins: [], readOnly: [] },
      };
    }
    await assertAccount(ctx.aws, ctx.cluster);
    const mode = await modeFor(ctx);
    if (!mode) {
      return {
        status: 'absent',
        detail: `EKS cluster ${eksClusterName(ctx)} does not exist yet`,
        changes: grants.map((g) => `+ access for ${g.principal} (${g.role})`),
      };
    }
    return mode === 'access-entries' ? checkEntries(ctx, grants) : checkAwsAuth(ctx, grants);
  },

  async apply(ctx) {
    const grants = desiredGrants(ctx.cluster);
    const name = eksClusterName(ctx);
    const mode = await requireMode(ctx);
    if (mode === 'aws-auth') {
      const kube = await ctx.kube();
      const plan = await applyAwsAuth(kube, grants);
      for (const c of plan.changes) ctx.log.created(c);
      if (grants.some((g) => g.role === 'readOnly')) await kube.apply(readOnlyBinding(), { force: true });
      else await kube.delete(READ_ONLY_BINDING);
      return outputsFor(
        'aws-auth',
        grants.filter((g) => plan.managed.includes(awsAuthArn(g.principal))),
      );
    }
    const owned: Grant[] = [];
    for (const g of grants) {
      const now = await inspectEntry(ctx, name, g.principal);
      if (now.exists && !now.ours)
        ctx.log.warning(`access entry ${g.principal} exists and is not platctl's: only its policy is ensured`);
      await ensureEntry(ctx, name, g, now);
      if (!now.exists) ctx.log.created(`access entry ${g.principal} (${g.role})`);
      if (!now.exists || now.ours) owned.push(g);
    }
    const r = recorded(ctx);
    for (const p of [...r.admins, ...r.readOnly].filter((x) => !grants.some((g) => g.principal === x))) {
      const e = await inspectEntry(ctx, name, p);
      if (e.exists && e.ours && (await deleteEntry(ctx, name, p))) ctx.log.success(`removed access entry ${p}`);
    }
    return outputsFor('access-entries', owned);
  },

  async destroy(ctx) {
    const r = recorded(ctx);
    const name = eksClusterName(ctx);
    const mode = r.mode ?? (await detectAccessMode(ctx, name))?.mode;
    if (!mode) return; // the cluster is gone, and its access entries with it
    if (mode === 'aws-auth') {
      const kube = await ctx.kube();
      const plan = await applyAwsAuth(kube, []);
      for (const c of plan.changes) ctx.log.success(`removed ${c.slice(2)}`);
      await kube.delete(READ_ONLY_BINDING);
      return;
    }
    for (const p of [...r.admins, ...r.readOnly]) {
      const e = await inspectEntry(ctx, name, p);
      if (!e.exists) continue;
      if (!e.ours) {
        ctx.log.warning(`access entry ${p} is not tagged as platctl's: left in place`);
        continue;
      }
      if (await deleteEntry(ctx, name, p)) ctx.log.success(`removed access entry ${p}`);
    }
  },
};
