/**
 * The step contract. A step checks the real world, applies only what is missing, and can destroy what it made.
 * steps/index.ts lists every step in order; that list is the only place the order is defined.
 */
import type { AwsClients } from './clients/aws.js';
import type { Exec } from './clients/exec.js';
import type { KubeClient } from './clients/kube.js';
import type { KubeTarget, KubeTargetView } from './clients/kube-target.js';
import type { Prompter } from './clients/prompt.js';
import type { ClusterConfig } from './config/schema.js';
import type { GitHost } from './githost/types.js';
import type { Logger } from './log.js';
import type { StepOutputs } from './state/types.js';

/** What a check found. */
export type CheckStatus = 'up-to-date' | 'drift' | 'absent';

/** The result of {@link Step.check}. */
export interface CheckResult {
  status: CheckStatus;
  /** One line for humans: "role eks-vault-demo trust policy differs", "3 to add, 0 to change, 0 to destroy". */
  detail: string;
  /** Itemised changes for --dry-run ("+ IAM role eks-vault-demo"). */
  changes?: string[];
  /** Outputs observed by the check, recorded when the step is up to date (adopted resources). */
  outputs?: StepOutputs;
}

/**
 * The clients a step reaches the world through, shared by every step of a run. A new client goes here and in
 * createClients() (src/runner/clients.ts), nowhere else: every step context then carries it.
 */
export interface StepClients {
  readonly exec: Exec;
  readonly aws: AwsClients;
  /** The cluster's API at a given target, connected on first use (once per target). */
  kubeAt(target: KubeTarget): Promise<KubeClient>;
  /** The fleet repo's git host API (`fleet.provider` gitea/github), made on first use; undefined for `ssh`. */
  gitHost(): Promise<GitHost | undefined>;
}

/** Everything a step may use; tests swap any of it. Built by createStepContext() (src/runner/context.ts). */
export interface StepContext extends StepClients {
  readonly cluster: ClusterConfig;
  /** Task-scoped logger: in a TTY its lines become the task's sub-output. */
  readonly log: Logger;
  /** Which cluster to talk to (decided in src/clients/kube-target.ts, nowhere else). */
  readonly kubeTarget: KubeTargetView;
  /** The cluster's API at the current kube target, connected on first use. */
  kube(): Promise<KubeClient>;
  readonly prompt: Prompter;
  /** Only checks run; nothing is written to the cloud, the cluster or state (local caches aside). */
  readonly dryRun: boolean;
  /** No prompts: every confirmation is yes. */
  readonly yes: boolean;
  /** Run the deep drift check (plan, values diff) rather than the cheap one. */
  readonly deep: boolean;
  /** Outputs recorded by an earlier step (empty when it has not run). */
  outputs(stepId: string): StepOutputs;
  /** Progress for long work: shown under the task in a TTY, as a plain line otherwise. */
  progress(message: string): void;
}

/** One step of the pipeline. */
export interface Step {
  /** Stable id used in state, --from/--only and docs/steps/<id>.md. */
  readonly id: string;
  readonly title: string;
  /** The config (and earlier outputs) this step depends on; a change in its hash re-runs the step. */
  inputs(ctx: StepContext): unknown;
  /** Read-only: is the real world as this step wants it? */
  check(ctx: StepContext): Promise<CheckResult>;
  /** Makes it so. Runs only when check is not up to date. Returns outputs for state (never secrets). */
  apply(ctx: StepContext): Promise<StepOutputs | undefined>;
  /** Undoes what apply made. Must tolerate things already gone. */
  destroy(ctx: StepContext): Promise<void>;
  /** After this step, state moves from the local journal into the cluster (the kubeconfig step). */
  readonly movesStateToCluster?: boolean;
}
