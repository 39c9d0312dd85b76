/**
 * The clients of one command run, built once and shared by every step context (one AWS client factory, one
 * connection per kube target). Adding a client: declare it in StepClients (src/step.ts) and build it here.
 */
import { createAwsClients } from '../clients/aws.js';
import { createExec } from '../clients/exec.js';
import { connectKube, type KubeClient } from '../clients/kube.js';
import { kubeTargetKey } from '../clients/kube-target.js';
import { timeoutsOf } from '../clients/timeouts.js';
import { setNoticeInterval } from '../clients/waiting.js';
import type { ClusterConfig } from '../config/schema.js';
import { gitHostGetter } from '../githost/provider.js';
import type { StepClients } from '../step.js';

/** Builds the run's clients for a cluster; `over` replaces any of them (tests, the bench). */
export function createClients(cluster: ClusterConfig, over: Partial<StepClients> = {}): StepClients {
  const connections = new Map<string, Promise<KubeClient>>();
  const kubeAt: StepClients['kubeAt'] = (target) => {
    const key = kubeTargetKey(target);
    let kube = connections.get(key);
    if (!kube) {
      kube = connectKube(target);
      connections.set(key, kube);
      // A failed connection is not cached: the next call tries again.
      kube.catch(() => connections.delete(key));
    }
    return kube;
  };
  // Bounds on every call to the outside, from the config's timeouts (src/clients/timeouts.ts).
  const timeouts = timeoutsOf(cluster);
  setNoticeInterval(timeouts.noticeMs);
  return {
    exec: over.exec ?? createExec({ timeouts }),
    aws: over.aws ?? createAwsClients({ region: cluster.aws.region, profile: cluster.aws.profile, timeouts }),
    kubeAt: over.kubeAt ?? kubeAt,
    // The token is read (and a missing one reported) on first use, not when a command that needs no host starts.
    gitHost: over.gitHost ?? gitHostGetter(cluster),
  };
}
