/**
 * `webhook_to_revision_ms` for `npm run bench`: on the finished demo cluster (fleet repo on the lab's Gitea), the
 * flux step's webhook half is applied as with `flux.webhook.url` set to notification-controller's loopback
 * receiver (on a cluster: the public URL through the Istio gateway), one commit is pushed as a person would, and
 * the time until the real source-controller's GitRepository names it is measured (its interval stretched to
 * 10 min meanwhile, so the move is the webhook's). The webhook, Receiver and token are removed again so the demo stays as
 * it was (the probe commit, a file under notes/, stays in the fleet repo).
 */
import path from 'node:path';
import { connectKube } from '../src/clients/kube.js';
import { pushAndWaitRevision, stretchInterval, waitReceiverReady } from '../test/helpers/webhook-timing.js';
import type { LabEnv } from '../test/lab/lab.js';
import { demoConfig, root } from './demo-lib.js';

/** Push → GitRepository at that commit, through Gitea's webhook delivery to the real Receiver. */
export async function webhookToRevision(lab: LabEnv): Promise<{ ms: number; pushMs: number }> {
  const { loadConfig } = await import('../src/config/load.js');
  const { createStepContext } = await import('../src/runner/context.js');
  const { memoryLogger } = await import('../test/helpers/memory-logger.js');
  const { applyWebhook, removeWebhook } = await import('../src/flux/webhook-setup.js');
  const demo = (await loadConfig(path.join(root, demoConfig))).clusters[0]!;
  const cluster = { ...demo, flux: { ...demo.flux, webhook: { url: lab.fluxReceiverUrl } } };
  const kube = await connectKube({ kubeconfig: lab.kubeconfig });
  const ctx = createStepContext({
    cluster,
    log: memoryLogger(),
    kube: async () => kube,
    yes: true,
    deep: false,
    outputs: () => ({}),
    progress: () => {},
  });
  await applyWebhook(ctx);
  try {
    await waitReceiverReady(kube, 60_000);
    // 10 min until the next timed fetch: whatever moves the source within the measurement is the webhook.
    const interval = await stretchInterval(kube, '10m0s');
    try {
      const t = await pushAndWaitRevision(lab, kube, cluster.fleet.url, { timeoutMs: 60_000 });
      if (!t.requested) throw new Error('the source moved without the Receiver asking: not a webhook measurement');
      return { ms: t.ms, pushMs: t.pushMs };
    } finally {
      if (interval) await stretchInterval(kube, interval);
    }
  } finally {
    await removeWebhook(ctx, lab.fluxReceiverUrl);
  }
}
