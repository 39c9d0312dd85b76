/**
 * The flux step's webhook half against an in-memory cluster and git host: the token is made once and kept only
 * in its Secret, the Receiver and the host's webhook agree on the path, a re-run changes nothing, a changed
 * token moves the webhook, dropping `flux.webhook` removes everything. The lab proves delivery for real.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { validateConfig } from '../../src/config/load.js';
import { RECEIVER_REF, readReceiverToken, TOKEN_SECRET_REF, webhookPath } from '../../src/flux/receiver.js';
import { applyWebhook, removeWebhook, webhookChanges } from '../../src/flux/webhook-setup.js';
import { createStepContext } from '../../src/runner/context.js';
import { maskSecrets } from '../../src/secrets.js';
import type { StepOutputs } from '../../src/state/types.js';
import { fakeGitHost, fakeRepo } from '../helpers/fake-git-host.js';
import { createFakeKube, type FakeKube } from '../helpers/fake-kube.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const HOOK_BASE = 'https://flux-webhook.example.com';
const config = (webhook: boolean) =>
  validateConfig(
    {
      clusters: [
        {
          name: 'demo',
          aws: { accountId: '123456789012', region: 'us-east-1' },
          kubernetes: { version: '1.34' },
          fleet: { url: 'ssh://git@g.example.com/acme/fleet.git', provider: 'gitea', apiUrl: 'https://g.example.com' },
          flux: webhook ? { webhook: { url: HOOK_BASE } } : {},
        },
      ],
    },
    't',
  ).clusters[0]!;

let kube: FakeKube;
let host: ReturnType<typeof fakeGitHost>;
const ctxFor = (webhook: boolean, outputs: Record<string, StepOutputs> = {}) => {
  const log = memoryLogger();
  const ctx = createStepContext({
    cluster: config(webhook),
    log,
    clients: { gitHost: async () => host },
    kube: async () => kube,
    outputs,
  });
  return { ctx, log };
};

beforeEach(() => {
  kube = createFakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system' } });
  host = fakeGitHost({ repo: fakeRepo({ owner: 'acme', name: 'fleet' }) });
});

describe('flux.webhook', () => {
  it('makes the token Secret, the Receiver and a JSON push webhook at the Receiver’s path', async () => {
    const { ctx, log } = ctxFor(true);
    expect(await webhookChanges(ctx)).toEqual([
      '+ Secret flux-system/webhook-token',
      '+ Receiver flux-system/flux-system',
      '+ push webhook',
    ]);
    expect(await applyWebhook(ctx)).toEqual({ webhookUrl: HOOK_BASE });
    const token = (await readReceiverToken(kube)) ?? '';
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const receiver = kube.peek<KubeObject & { spec: Record<string, unknown> }>(RECEIVER_REF);
    expect(receiver?.spec).toMatchObject({
      type: 'github',
      events: ['ping', 'push'],
      secretRef: { name: TOKEN_SECRET_REF.name },
      resources: [{ kind: 'GitRepository', name: 'flux-system' }],
    });
    expect(host.state.hooks).toEqual([
      expect.objectContaining({ url: `${HOOK_BASE}${webhookPath(token)}`, contentType: 'json', secret: token }),
    ]);
    // Never printed: the token is masked everywhere and absent from the log.
    expect(log.lines.join('\n')).not.toContain(token);
    expect(maskSecrets(`x ${token} y`)).not.toContain(token);
  });

  it('a re-run finds nothing to change and writes nothing anywhere', async () => {
    await applyWebhook(ctxFor(true).ctx);
    const writes = host.state.writes.length;
    const calls = kube.calls.length;
    const { ctx } = ctxFor(true, { flux: { webhookUrl: HOOK_BASE } });
    expect(await webhookChanges(ctx)).toEqual([]);
    await applyWebhook(ctx);
    expect(host.state.writes).toHaveLength(writes);
    expect(kube.calls.slice(calls).filter((c) => c.verb !== 'get' && c.verb !== 'apply')).toEqual([]);
  });

  it('a new token (the Secret was deleted) moves the webhook to the new path; the old one goes', async () => {
    await applyWebhook(ctxFor(true).ctx);
    const old = host.state.hooks[0]?.url;
    await kube.delete(TOKEN_SECRET_REF);
    const { ctx } = ctxFor(true, { flux: { webhookUrl: HOOK_BASE } });
    expect(await webhookChanges(ctx)).toContain('+ Secret flux-system/webhook-token');
    await applyWebhook(ctx);
    expect(host.state.hooks).toHaveLength(1);
    expect(host.state.hooks[0]?.url).not.toBe(old);
    expect(host.state.hooks[0]?.url).toBe(`${HOOK_BASE}${webhookPath((await readReceiverToken(kube)) ?? '')}`);
  });

  it('dropping flux.webhook removes the webhook, the Receiver and the token; so does teardown', async () => {
    await applyWebhook(ctxFor(true).ctx);
    const { ctx } = ctxFor(false, { flux: { webhookUrl: HOOK_BASE } });
    expect(await webhookChanges(ctx)).toEqual([`- webhook to ${HOOK_BASE} and Receiver flux-system/flux-system`]);
    expect(await applyWebhook(ctx)).toEqual({});
    expect(host.state.hooks).toEqual([]);
    expect(kube.peek(RECEIVER_REF)).toBeUndefined();
    expect(kube.peek(TOKEN_SECRET_REF)).toBeUndefined();

    await applyWebhook(ctxFor(true).ctx);
    await removeWebhook(ctxFor(true).ctx);
    expect(host.state.hooks).toEqual([]);
    expect(kube.peek(RECEIVER_REF)).toBeUndefined();
  });
});
