/**
 * The fleet repo's push webhook to Flux's Receiver, decided once for every provider. The webhook is the
 * cluster's when its URL is under `<flux.webhook.url>/hook/`; the one wanted points at the Receiver's path
 * (derived from the token, so a new token means a new URL), sends JSON, on push, and is active. Hosts never
 * return a webhook's secret: platctl compares the rest and repairs by replacing a webhook that differs.
 */
import type { Logger } from '../log.js';
import type { GitHost, HookSpec, HostHook, RepoRef } from './types.js';

const full = (r: RepoRef) => `${r.owner}/${r.name}`;
const base = (url: string) => url.replace(/\/+$/, '');

/** The full URL the host posts to: the public webhook URL plus the Receiver's `/hook/<sha256>` path. */
export function hookUrl(webhookUrl: string, webhookPath: string): string {
  return `${base(webhookUrl)}${webhookPath}`;
}

/** True for webhooks pointing under this cluster's public webhook URL. */
export function isClusterHook(h: Pick<HostHook, 'url'>, webhookUrl: string): boolean {
  return h.url.startsWith(`${base(webhookUrl)}/hook/`);
}

/** What is wrong with a cluster webhook compared with the wanted one (empty: up to date). */
export function hookProblems(h: HostHook, want: Pick<HookSpec, 'url' | 'contentType' | 'events'>): string[] {
  const out: string[] = [];
  if (h.url !== want.url) out.push('points at another Receiver path (an older token)');
  if (h.contentType !== want.contentType) out.push(`sends ${h.contentType || 'form'}, not ${want.contentType}`);
  const missing = want.events.filter((e) => !h.events.includes(e));
  if (missing.length) out.push(`is not sent on ${missing.join(', ')}`);
  if (!h.active) out.push('is inactive');
  return out;
}

/** The cluster's webhooks, split into the one that is as wanted and those to replace (with why). */
export async function inspectHooks(host: GitHost, repo: RepoRef, webhookUrl: string, want: HookSpec) {
  const ours = (await host.listHooks(repo)).filter((h) => isClusterHook(h, webhookUrl));
  const good = ours.find((h) => hookProblems(h, want).length === 0);
  const stale = ours.filter((h) => h !== good).map((h) => ({ hook: h, problems: hookProblems(h, want) }));
  return { good, stale };
}

/** One line per difference, for a check's `changes` (empty: up to date). */
export function hookChanges(found: Awaited<ReturnType<typeof inspectHooks>>, repo: RepoRef): string[] {
  const out = found.stale.map(
    (s) => `~ webhook ${s.hook.id} on ${full(repo)} ${s.problems.join(', ') || 'duplicates another'}`,
  );
  if (!found.good) out.push(`+ push webhook on ${full(repo)} to the Flux Receiver`);
  return out;
}

/** Makes the host hold exactly one webhook as wanted under the cluster's URL; returns its id. */
export async function ensureHook(
  host: GitHost,
  repo: RepoRef,
  webhookUrl: string,
  want: HookSpec,
  log: Logger,
): Promise<number> {
  const found = await inspectHooks(host, repo, webhookUrl, want);
  for (const s of found.stale) {
    await host.deleteHook(repo, s.hook.id);
    log.warning(`removed webhook ${s.hook.id} on ${full(repo)}: ${s.problems.join(', ') || 'a duplicate'}`);
  }
  if (found.good) {
    log.info(`push webhook ${found.good.id} on ${full(repo)} to the Flux Receiver up to date`);
    return found.good.id;
  }
  const hook = await host.createHook(repo, want);
  log.created(`push webhook ${hook.id} on ${full(repo)} (JSON) to ${base(webhookUrl)}/hook/…`);
  return hook.id;
}

/** Deletes every webhook under the cluster's URL; returns how many went. */
export async function removeHooks(host: GitHost, repo: RepoRef, webhookUrl: string): Promise<number> {
  const ours = (await host.listHooks(repo)).filter((h) => isClusterHook(h, webhookUrl));
  for (const h of ours) await host.deleteHook(repo, h.id);
  return ours.length;
}
