/**
 * `flux.webhook` end to end with nothing played: platctl (a real process) bootstraps the flux-secret and flux
 * steps against the lab's Gitea with the real Flux controllers running; a push to the fleet repo travels through
 * Gitea's real webhook delivery (JSON, signed with the Receiver's token) to the real notification-controller's
 * Receiver, which asks source-controller to fetch, and the GitRepository's revision moves to the new commit well
 * before its interval (stretched from the fleet's 1 min to 10 min by the test, so no timed fetch can land in the
 * window). Teardown leaves no webhook and no key. The webhook URL is the receiver's loopback
 * address (LabEnv.fluxReceiverUrl): on a cluster it is the public URL through the Istio gateway. helm-controller
 * is held down: the releases the adoption manifests name were never installed here.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { SECRET_REF } from '../../src/flux/deploy-key.js';
import { RECEIVER_REF, readReceiverToken, TOKEN_SECRET_REF, webhookPath } from '../../src/flux/receiver.js';
import { syncRefs } from '../../src/flux/wait.js';
import { FLUX_INSTALL, labCharts, labKube, uniqueName, waitFluxNamespaceSettled } from '../helpers/flux-context.js';
import { platctl, sandbox } from '../helpers/platctl.js';
import { giteaDeliveries, pushAndWaitRevision, type SourceObject, stretchInterval } from '../helpers/webhook-timing.js';
import { lab } from '../lab/env.js';
import { holdFluxControllers, releaseFluxControllers } from '../lab/flux-host.js';
import { giteaCall, giteaRepoUrl } from '../lab/gitea.js';

const env = lab();
const name = uniqueName('hook');
const repoName = uniqueName('fleet-hook');
const owner = env.gitea.user;
const repoPath = `/repos/${owner}/${repoName}`;
const fleetUrl = giteaRepoUrl(env.ports, owner, repoName);
const box = sandbox(env, name, {
  fleet: { url: fleetUrl, provider: 'gitea', apiUrl: env.gitea.url },
  flux: {
    version: 'v2.9.4',
    manifests: FLUX_INSTALL,
    timeout: '3m',
    charts: labCharts(env),
    webhook: { url: env.fluxReceiverUrl },
  },
});
const kube = await labKube(env);
const [gitRef] = syncRefs();
const run = (args: string[]) => platctl([...args, '--config', box.config], box.env);
const api = <T>(method: string, p: string, body?: unknown, ok?: number[]) =>
  giteaCall<T>(env.gitea.url, { token: env.gitea.token }, method, p, body, ok);
interface Hook {
  id: number;
  config: Record<string, string>;
  events: string[];
  active: boolean;
}
let token = '';

beforeAll(async () => {
  await waitFluxNamespaceSettled(kube);
  await kube.delete(SECRET_REF);
  await holdFluxControllers(['helm-controller']);
});
afterAll(async () => {
  try {
    await run(['teardown', name, '--yes']);
    await api('DELETE', repoPath, undefined, [204, 404]);
  } finally {
    await releaseFluxControllers();
    await rm(box.dir, { recursive: true, force: true });
  }
});

describe('flux.webhook with the real notification-controller and Gitea', () => {
  it('bootstrap makes the Receiver and a JSON push webhook at its path on Gitea', async () => {
    const r = await run(['bootstrap', name, '--from', 'flux-secret', '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    token = (await readReceiverToken(kube)) ?? '';
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(r.all).not.toContain(token);
    const receiver = await kube.get<KubeObject & { status?: { webhookPath?: string } }>(RECEIVER_REF);
    // The controller's own path for the Receiver is the one platctl registered.
    expect(receiver?.status?.webhookPath).toBe(webhookPath(token));
    const hooks = (await api<Hook[]>('GET', `${repoPath}/hooks`)).body;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({
      config: { url: `${env.fluxReceiverUrl}${webhookPath(token)}`, content_type: 'json' },
      events: ['push'],
      active: true,
    });
    // Install, fleet push and the wait for the real controllers, on 2 shared cores.
  }, 300_000);

  it('a push reaches the Receiver through Gitea and the GitRepository moves to it well before its interval', async () => {
    token = (await readReceiverToken(kube)) ?? '';
    // The fleet's interval is 1 min, and a timed fetch landing in the window once made a webhook-less pass: with
    // 10 min from here, a move within 45 s can only be the webhook's (the annotation below says so too).
    expect(await stretchInterval(kube, '10m0s')).toBe('1m0s');
    const before = await kube.get<SourceObject>(gitRef!);
    const asked = before?.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
    const t = await pushAndWaitRevision(env, kube, fleetUrl, { timeoutMs: 45_000 });
    expect(t.source.status?.artifact?.revision).toBe(`main@sha1:${t.sha}`);
    console.info(`webhook_to_revision_ms ${Math.round(t.ms)} (push alone ${Math.round(t.pushMs)} ms)`);
    // notification-controller asked for it (a new requestedAt), and that request is what source-controller handled.
    const requested = t.source.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
    expect(requested).toBeDefined();
    expect(requested).not.toBe(asked);
    expect(t.source.status?.lastHandledReconcileAt).toBe(requested);
    expect(t.requested).toBe(true);

    // Gitea's own record: a JSON push delivery of this commit to the Receiver's path, signed, answered 200.
    const [hook] = (await api<Hook[]>('GET', `${repoPath}/hooks`)).body;
    const deliveries = await giteaDeliveries(env, hook!.id);
    const mine = deliveries.find((d) => d.event === 'push' && d.request.body.includes(t.sha));
    expect(mine, JSON.stringify(deliveries.map((d) => [d.event, d.response.status]))).toBeDefined();
    expect(mine).toMatchObject({ delivered: true, succeeded: true, response: { status: 200 } });
    expect(mine?.request.url).toBe(`${env.fluxReceiverUrl}${webhookPath(token)}`);
    expect(mine?.request.headers['Content-Type']).toBe('application/json');
    expect(mine?.request.headers['X-GitHub-Event']).toBe('push');
    expect(mine?.request.headers['X-Hub-Signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(mine?.request.body ?? '{}')).toMatchObject({ ref: 'refs/heads/main', after: t.sha });
  }, 60_000);

  it('teardown removes the webhook and the key from Gitea, and the token Secret', async () => {
    const r = await run(['teardown', name, '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    expect((await api('GET', `${repoPath}/hooks`)).body).toEqual([]);
    expect((await api('GET', `${repoPath}/keys`)).body).toEqual([]);
    expect(await kube.get(TOKEN_SECRET_REF)).toBeUndefined();
  }, 180_000);
});
