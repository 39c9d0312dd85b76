/**
 * The one step-context factory. The runner builds a context per step task from a {@link ContextBase} that a
 * command makes once; day-2 commands (istio upgrade, add-tenant, status --verify) and tests call the same
 * factory, so every context has the same clients, kube target, prompts and progress.
 */

import { readAccessOutputs } from '../../steps/access.js';
import type { KubeClient } from '../clients/kube.js';
import { type KubeTarget, kubeTargetView } from '../clients/kube-target.js';
import { createPrompter, type Prompter, type PromptRunner } from '../clients/prompt.js';
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { stateOutputs } from '../state/outputs.js';
import type { State, StepOutputs } from '../state/types.js';
import type { StepClients, StepContext } from '../step.js';
import { createClients } from './clients.js';

/** What a command builds once and every step context of its run shares. */
export interface ContextBase {
  cluster: ClusterConfig;
  log: Logger;
  clients: StepClients;
  /** --kubeconfig / --context. */
  flags?: KubeTarget;
  dryRun?: boolean;
  yes?: boolean;
  /** A terminal is attached (stdin and stderr): prompts may be shown. */
  interactive?: boolean;
}

/** Options for {@link createStepContext}: a base (clients may be partial: the rest are created) plus per-use parts. */
export interface StepContextOptions extends Omit<ContextBase, 'clients'> {
  clients?: Partial<StepClients>;
  /** Test seam: this client, whatever the kube target says. */
  kube?: () => Promise<KubeClient>;
  /** Earlier steps' recorded outputs: a live reader, or a record (read at each call). */
  outputs?: ((stepId: string) => StepOutputs) | Record<string, StepOutputs>;
  /** Run the deep drift checks (default true: outside the runner every check is deep). */
  deep?: boolean;
  /** Default: a prompter honouring `yes` and `interactive`, shown through `promptRunner`. */
  prompt?: Prompter;
  promptRunner?: PromptRunner;
  /** Where progress lines go (default: the logger's info lines). */
  progress?: (message: string) => void;
}

/** Builds a step context. */
export function createStepContext(o: StepContextOptions): StepContext {
  const seam = o.kube;
  const clients = createClients(o.cluster, seam ? { ...o.clients, kubeAt: () => seam() } : o.clients);
  const given = o.outputs;
  const outputs: (id: string) => StepOutputs =
    typeof given === 'function' ? given : (id) => (given ? (given[id] ?? {}) : {});
  const kubeTarget = kubeTargetView(o.flags ?? {}, o.cluster.kubernetes, () => readAccessOutputs({ outputs }));
  const yes = Boolean(o.yes);
  const log = o.log;
  return {
    ...clients,
    cluster: o.cluster,
    log,
    kubeTarget,
    kube: () => clients.kubeAt(kubeTarget.current()),
    prompt: o.prompt ?? createPrompter({ yes, interactive: Boolean(o.interactive), runner: o.promptRunner }),
    dryRun: Boolean(o.dryRun),
    yes,
    deep: o.deep ?? true,
    outputs,
    progress: o.progress ?? ((m) => log.info(m)),
  };
}

/** The base a context was built from: its clients, cluster, logger and flags (to hand a test's context to the runner). */
export function baseOf(ctx: StepContext): ContextBase {
  return {
    cluster: ctx.cluster,
    log: ctx.log,
    clients: ctx,
    flags: ctx.kubeTarget.requested,
    dryRun: ctx.dryRun,
    yes: ctx.yes,
    interactive: ctx.prompt.interactive,
  };
}

/** The cluster's API as of `state` (the kube target follows what its access step recorded). */
export function kubeAtState(base: ContextBase, state: State | undefined): Promise<KubeClient> {
  return createStepContext({ ...base, outputs: stateOutputs(state).outputs }).kube();
}
