/**
 * The flux step's webhook half (`flux.webhook`): the Receiver and its token Secret in the cluster, the push
 * webhook on the git host, compared on a deep check and repaired on apply; removed when the config drops
 * `flux.webhook` (the URL platctl registered is in the step's outputs) and on teardown.
 */

import type { KubeObject } from '../clients/kube.js';
import { gitHostSettings } from '../githost/provider.js';
import type { HookSpec } from '../githost/types.js';
import { ensureHook, hookChanges, hookUrl, inspectHooks, removeHooks } from '../githost/webhook.js';
import type { StepContext } from '../step.js';
import { applyAll } from './install.js';
import {
  ensureReceiverToken,
  RECEIVER_REF,
  readReceiverToken,
  receiverObject,
  TOKEN_SECRET_REF,
  webhookPath,
} from './receiver.js';

type ReceiverLive = KubeObject & { spec?: Record<string, unknown> };

/** The webhook platctl wants on the host for a token. */
function wantedHook(webhookUrl: string, token: string): HookSpec {
  return { url: hookUrl(webhookUrl, webhookPath(token)), secret: token, contentType: 'json', events: ['push'] };
}

/** The webhook URL recorded by an earlier run (to clean up after `flux.webhook` is dropped). */
const recordedUrl = (ctx: StepContext) => {
  const v = ctx.outputs('flux').webhookUrl;
  return typeof v === 'string' && v ? v : undefined;
};

async function host(ctx: StepContext) {
  const s = gitHostSettings(ctx.cluster);
  const h = s && (await ctx.gitHost());
  return s && h ? { repo: s.repo, host: h } : undefined;
}

/** Deep check: what differs between the cluster, the host and `flux.webhook` (empty: up to date). */
export async function webhookChanges(ctx: StepContext): Promise<string[]> {
  const url = ctx.cluster.flux.webhook?.url;
  const h = await host(ctx);
  const old = recordedUrl(ctx);
  if (!url) return old && h ? [`- webhook to ${old} and Receiver flux-system/flux-system`] : [];
  if (!h) return [];
  const kube = await ctx.kube();
  const token = await readReceiverToken(kube);
  if (!token) return ['+ Secret flux-system/webhook-token', '+ Receiver flux-system/flux-system', '+ push webhook'];
  const changes: string[] = [];
  const live = await kube.get<ReceiverLive>(RECEIVER_REF);
  const want = receiverObject(ctx.cluster.name) as ReceiverLive;
  if (JSON.stringify(live?.spec ?? null) !== JSON.stringify(want.spec))
    changes.push('~ Receiver flux-system/flux-system');
  changes.push(...hookChanges(await inspectHooks(h.host, h.repo, url, wantedHook(url, token)), h.repo));
  if (old && old !== url) changes.push(`- webhook to ${old}`);
  return changes;
}

/** Apply: token, Receiver, webhook; or removal when `flux.webhook` is gone. Returns the outputs to record. */
export async function applyWebhook(ctx: StepContext): Promise<{ webhookUrl?: string }> {
  const url = ctx.cluster.flux.webhook?.url;
  const old = recordedUrl(ctx);
  if (old && old !== url) await removeWebhook(ctx, old);
  const h = await host(ctx);
  if (!url || !h) return {};
  const kube = await ctx.kube();
  const token = await ensureReceiverToken(kube, ctx.cluster.name);
  await applyAll(kube, [receiverObject(ctx.cluster.name)]);
  await ensureHook(h.host, h.repo, url, wantedHook(url, token), ctx.log);
  return { webhookUrl: url };
}

/** Removes the webhooks under `url` (default: the configured or recorded one), the Receiver and its Secret. */
export async function removeWebhook(ctx: StepContext, url = ctx.cluster.flux.webhook?.url ?? recordedUrl(ctx)) {
  if (!url) return;
  const h = await host(ctx);
  if (h) {
    const n = await removeHooks(h.host, h.repo, url);
    ctx.log.success(`removed ${n} webhook(s) to ${url} from ${h.repo.owner}/${h.repo.name}`);
  }
  const kube = await ctx.kube();
  for (const ref of [RECEIVER_REF, TOKEN_SECRET_REF]) {
    if (await kube.delete(ref)) ctx.log.info(`deleted ${ref.kind} flux-system/${ref.name}`);
  }
}
