/**
 * The one place that decides which cluster platctl talks to. Two layers:
 * - requested: what the user asked for — the --kubeconfig/--context flags, else platform.yaml's
 *   kubernetes.kubeconfig/context. The access step reaches this target and records where it ended up.
 * - current: the requested target, else what the access step recorded (field by field). Every client that
 *   talks to the cluster (the Kubernetes client, helm, the Vault port-forward) uses this one.
 * Unset fields fall through to kubectl's own rules (KUBECONFIG, ~/.kube/config, the current context).
 */

/** Where to find the cluster: a kubeconfig file (else KUBECONFIG / ~/.kube/config) and a context. */
export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
}

/** The kube target as a step sees it (StepContext.kubeTarget). */
export interface KubeTargetView {
  /** --kubeconfig/--context, else platform.yaml: what the access step reaches and records. */
  readonly requested: KubeTarget;
  /** The requested target, else what the access step recorded: what every cluster client uses. */
  current(): KubeTarget;
}

const given = (v: string | undefined) => (v ? v : undefined);

/** Flags beat platform.yaml's `kubernetes.kubeconfig` / `kubernetes.context`. */
export function requestedKubeTarget(flags: KubeTarget, config: KubeTarget): KubeTarget {
  return {
    kubeconfig: given(flags.kubeconfig) ?? given(config.kubeconfig),
    context: given(flags.context) ?? given(config.context),
  };
}

/** The requested target, with what the access step recorded filling the fields left open. */
export function currentKubeTarget(requested: KubeTarget, recorded: KubeTarget): KubeTarget {
  return {
    kubeconfig: requested.kubeconfig ?? given(recorded.kubeconfig),
    context: requested.context ?? given(recorded.context),
  };
}

/** A {@link KubeTargetView} over the flags, the config, and a live reader of the access step's record. */
export function kubeTargetView(flags: KubeTarget, config: KubeTarget, recorded: () => KubeTarget): KubeTargetView {
  const requested = requestedKubeTarget(flags, config);
  return { requested, current: () => currentKubeTarget(requested, recorded()) };
}

/** A short cache key for a target (connections are made once per target). */
export const kubeTargetKey = (t: KubeTarget): string => JSON.stringify([t.kubeconfig ?? '', t.context ?? '']);
