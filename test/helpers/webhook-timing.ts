/**
 * Push → webhook → revision on the lab, shared by the webhook lab test and `npm run bench`
 * (`webhook_to_revision_ms`): a commit pushed to a fleet repository on the lab's Gitea as a person would (git over
 * ssh with the operator's key, which is the Gitea admin's), then the wait until the real source-controller's
 * GitRepository flux-system names that commit; and Gitea's own record of its webhook deliveries.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { RECEIVER_REF } from '../../src/flux/receiver.js';
import { RECONCILE_ANNOTATION, syncRefs } from '../../src/flux/wait.js';
import { labPaths } from '../lab/config.js';
import type { LabEnv } from '../lab/env.js';
import { giteaPaths } from '../lab/gitea.js';

/** Commits `files` to `repoUrl`'s `branch` over ssh with the operator's key; returns the new commit. */
export async function pushCommit(
  env: LabEnv,
  repoUrl: string,
  files: Record<string, string>,
  message: string,
  branch = 'main',
): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'platctl-push-'));
  const gitEnv = {
    ...process.env,
    GIT_SSH_COMMAND: env.gitSshCommand,
    GIT_AUTHOR_NAME: 'a platform engineer',
    GIT_AUTHOR_EMAIL: 'engineer@lab.invalid',
    GIT_COMMITTER_NAME: 'a platform engineer',
    GIT_COMMITTER_EMAIL: 'engineer@lab.invalid',
  };
  const git = (args: string[]) => execa('git', args, { cwd: dir, env: gitEnv, extendEnv: false });
  try {
    await git(['clone', '-q', '--branch', branch, repoUrl, '.']);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', message]);
    await git(['push', '-q', 'origin', `HEAD:${branch}`]);
    return (await git(['rev-parse', 'HEAD'])).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** GitRepository flux-system as the real source-controller leaves it. */
export type SourceObject = KubeObject & {
  metadata: { annotations?: Record<string, string> };
  spec?: { interval?: string };
  status?: { artifact?: { revision?: string }; lastHandledReconcileAt?: string };
};

/**
 * Sets GitRepository flux-system's interval (e.g. 10m0s) and waits until source-controller has reconciled that
 * generation, so its next timed fetch is a whole interval away: in a shorter window only a webhook can move it.
 * (kustomize-controller puts the fleet's own interval back when it next applies the fleet.) Returns the old one.
 */
export async function stretchInterval(kube: KubeClient, interval: string, timeoutMs = 60_000): Promise<string> {
  const [gitRef] = syncRefs();
  const before = await kube.get<SourceObject>(gitRef!);
  await kube.patch(gitRef!, { spec: { interval } });
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await kube.get<SourceObject & { status?: { observedGeneration?: number } }>(gitRef!);
    const generation = (s?.metadata as { generation?: number } | undefined)?.generation ?? 0;
    if (s?.spec?.interval === interval && (s.status?.observedGeneration ?? -1) >= generation) break;
    if (performance.now() > deadline) throw new Error(`source-controller did not take interval ${interval}`);
    await sleep(200);
  }
  return before?.spec?.interval ?? '';
}

/** What {@link pushAndWaitRevision} saw. */
export interface WebhookTiming {
  sha: string;
  /** From the start of the push until the GitRepository's artifact names the commit. */
  ms: number;
  /** The push alone (clone, commit, push): the part that is not the webhook's. */
  pushMs: number;
  /** The GitRepository at that moment. */
  source: SourceObject;
  /**
   * The fetch answered a reconcile request made after the push (a new `requestedAt`, the one handled): the
   * Receiver's, as nothing else asks here. False means a timed fetch got there first.
   */
  requested: boolean;
}

/**
 * Pushes one commit to `repoUrl` and polls (every `pollMs`) GitRepository flux-system until its artifact is at
 * that commit; throws after `timeoutMs`. Nothing here asks Flux to reconcile: only the webhook (or the
 * interval) can move it.
 */
export async function pushAndWaitRevision(
  env: LabEnv,
  kube: KubeClient,
  repoUrl: string,
  o: { timeoutMs: number; pollMs?: number; branch?: string },
): Promise<WebhookTiming> {
  const [gitRef] = syncRefs();
  const asked = (await kube.get<SourceObject>(gitRef!))?.metadata.annotations?.[RECONCILE_ANNOTATION];
  const start = performance.now();
  const stamp = new Date().toISOString();
  const sha = await pushCommit(env, repoUrl, { 'notes/webhook.txt': `${stamp}\n` }, `webhook probe ${stamp}`, o.branch);
  const pushMs = performance.now() - start;
  for (;;) {
    const source = await kube.get<SourceObject>(gitRef!);
    if (source?.status?.artifact?.revision?.endsWith(`:${sha}`)) {
      const ms = performance.now() - start;
      const now = source.metadata.annotations?.[RECONCILE_ANNOTATION];
      const requested = now !== undefined && now !== asked && source.status?.lastHandledReconcileAt === now;
      return { sha, ms, pushMs, source, requested };
    }
    if (performance.now() - start > o.timeoutMs) {
      throw new Error(
        `GitRepository flux-system still at ${source?.status?.artifact?.revision} ${o.timeoutMs} ms after pushing ${sha}`,
      );
    }
    await sleep(o.pollMs ?? 100);
  }
}

/** One of Gitea's webhook deliveries (its `hook_task` row, as the web UI's "Recent deliveries" shows it). */
export interface GiteaDelivery {
  event: string;
  delivered: boolean;
  succeeded: boolean;
  request: { url: string; http_method: string; headers: Record<string, string>; body: string };
  response: { status: number; body: string };
}

/**
 * The deliveries of a webhook, newest first. Gitea v1.26's REST API has no deliveries endpoint (only the web
 * UI lists them), so they are read from its SQLite database, read-only.
 */
export async function giteaDeliveries(env: LabEnv, hookId: number): Promise<GiteaDelivery[]> {
  const db = path.join(giteaPaths(labPaths(env.labDir)).data, 'gitea.db');
  const py = [
    'import json, sqlite3, sys',
    'c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)',
    'rows = c.execute("select event_type, is_delivered, is_succeed, request_content, response_content' +
      ' from hook_task where hook_id = ? order by id desc", (int(sys.argv[2]),)).fetchall()',
    'print(json.dumps(rows))',
  ].join('\n');
  const { stdout } = await execa('python3', ['-c', py, db, String(hookId)]);
  const rows = JSON.parse(stdout) as [string, number, number, string | null, string | null][];
  return rows.map(([event, delivered, succeeded, req, res]) => ({
    event,
    delivered: delivered === 1,
    succeeded: succeeded === 1,
    request: req ? JSON.parse(req) : { url: '', http_method: '', headers: {}, body: '' },
    response: res ? JSON.parse(res) : { status: 0, body: '' },
  }));
}

/** Waits until notification-controller has the Receiver flux-system Ready (its path served); throws after `timeoutMs`. */
export async function waitReceiverReady(kube: KubeClient, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
      RECEIVER_REF,
    );
    if (r?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (performance.now() > deadline) throw new Error(`Receiver flux-system not Ready after ${timeoutMs} ms`);
    await sleep(200);
  }
}
