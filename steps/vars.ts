/**
 * Step `vars`: the cluster variables. Writes ConfigMap flux-system/platform-vars with every non-secret output a
 * fleet manifest may need (src/vars/catalogue.ts), for Flux's post-build substitution: the root Kustomization
 * and the tenants' Kustomizations name it in `postBuild.substituteFrom`. It runs after the steps that fill it
 * and before `flux`, whose first sync needs it. Its inputs are the variables themselves, so a changed output (a
 * role recreated with a new ARN) changes them: the step then rewrites the ConfigMap, asks Flux to reconcile
 * the Kustomizations that read it and waits until they have (src/vars/wake.ts). See docs/steps/vars.md.
 */
import type { KubeClient, KubeObject, ObjectRef } from '../src/clients/kube.js';
import { createNamespace, waitFor } from '../src/clients/namespaces.js';
import { isPlatctlError } from '../src/errors.js';
import { outputReader } from '../src/state/outputs.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { platformVars, unsetVars } from '../src/vars/catalogue.js';
import { PLATFORM_VARS } from '../src/vars/names.js';
import { wakeReaders } from '../src/vars/wake.js';

/** The ConfigMap's reference. */
export const PLATFORM_VARS_REF: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', ...PLATFORM_VARS };
const LABEL = `ConfigMap ${PLATFORM_VARS.namespace}/${PLATFORM_VARS.name}`;

/** The vars step's outputs: where the variables are and how many there are (never their values twice). */
export const readVarsOutputs = outputReader('vars', { configMap: 'string', count: 'number' });

type ConfigMap = KubeObject & { data?: Record<string, string> };

/** The ConfigMap as platctl writes it. */
export function platformVarsConfigMap(data: Record<string, string>): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...PLATFORM_VARS,
      labels: { 'app.kubernetes.io/managed-by': 'platctl', 'app.kubernetes.io/part-of': 'platctl' },
      annotations: {
        'platctl.io/description':
          'Cluster variables for Flux post-build substitution; platctl rewrites this on every bootstrap.',
      },
    },
    data,
  };
}

/** `+ name`, `- name`, `~ name: old → new` for every variable that differs. */
export function varChanges(have: Record<string, string>, want: Record<string, string>): string[] {
  const changes: string[] = [];
  for (const [k, v] of Object.entries(want)) {
    if (!(k in have)) changes.push(`+ ${k}=${v}`);
    else if (have[k] !== v) changes.push(`~ ${k}: ${have[k]} → ${v}`);
  }
  for (const k of Object.keys(have)) if (!(k in want)) changes.push(`- ${k}`);
  return changes;
}

const outputs = (want: Record<string, string>) =>
  readVarsOutputs.record({
    configMap: `${PLATFORM_VARS.namespace}/${PLATFORM_VARS.name}`,
    count: Object.keys(want).length,
  });

async function check(ctx: StepContext): Promise<CheckResult> {
  const want = platformVars(ctx);
  let kube: KubeClient;
  try {
    kube = await ctx.kube();
  } catch (err) {
    // A dry run before the cluster exists: say what would be written rather than fail the plan.
    if (!(ctx.dryRun && isPlatctlError(err) && err.code === 'KUBE_UNREACHABLE')) throw err;
    return { status: 'absent', detail: `cluster not reachable yet: ${err.message}`, changes: [`+ ${LABEL}`] };
  }
  // Cheap and deep alike: ONE read, compared with what the outputs give.
  const live = await kube.get<ConfigMap>(PLATFORM_VARS_REF);
  const count = Object.keys(want).length;
  if (!live) return { status: 'absent', detail: `write ${LABEL} (${count} variables)`, changes: [`+ ${LABEL}`] };
  const changes = varChanges(live.data ?? {}, want);
  if (changes.length === 0)
    return { status: 'up-to-date', detail: `${LABEL}: ${count} variables up to date`, outputs: outputs(want) };
  const detail = changes.length === 1 ? `${LABEL}: ${changes[0]}` : `${LABEL}: ${changes.length} variables differ`;
  return { status: 'drift', detail, changes };
}

async function apply(ctx: StepContext) {
  const want = platformVars(ctx);
  for (const [step, names] of unsetVars(ctx))
    ctx.log.warning(`no value yet for ${names.join(', ')}: the ${step} step has not recorded it`);
  const kube = await ctx.kube();
  // Create, not apply: the flux step owns the namespace's labels.
  await createNamespace(kube, PLATFORM_VARS.namespace, {}, waitFor(ctx));
  const live = await kube.get<ConfigMap>(PLATFORM_VARS_REF);
  const cm = platformVarsConfigMap(want);
  // The whole ConfigMap is platctl's: replace (keys someone else added go too), guarded by the version read.
  if (live) {
    for (const c of varChanges(live.data ?? {}, want)) ctx.log.info(c);
    await kube.replace({ ...cm, metadata: { ...cm.metadata, resourceVersion: live.metadata.resourceVersion } });
    ctx.log.success(`${LABEL} updated (${Object.keys(want).length} variables)`);
  } else {
    await kube.create(cm);
    ctx.log.created(`${LABEL} (${Object.keys(want).length} variables)`);
  }
  await wakeReaders(ctx, kube);
  return outputs(want);
}

async function destroy(ctx: StepContext): Promise<void> {
  const kube = await ctx.kube();
  if (await kube.delete(PLATFORM_VARS_REF)) ctx.log.success(`deleted ${LABEL}`);
}

/** The `vars` step. */
export const varsStep: Step = {
  id: 'vars',
  title: 'Cluster variables for the fleet repo',
  // The variables themselves: any changed output re-runs the step (a deep check, the same one read).
  inputs: (ctx) => ({ vars: platformVars(ctx) }),
  check,
  apply,
  destroy,
};
