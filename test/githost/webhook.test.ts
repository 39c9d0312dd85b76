/** The shared webhook logic: one JSON push webhook under the cluster's URL, compared and repaired. */
import { describe, expect, it } from 'vitest';
import { webhookPath } from '../../src/flux/receiver.js';
import type { HookSpec } from '../../src/githost/types.js';
import { ensureHook, hookChanges, hookUrl, inspectHooks, removeHooks } from '../../src/githost/webhook.js';
import { fakeGitHost, fakeRepo } from '../helpers/fake-git-host.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const ref = { owner: 'acme', name: 'fleet' };
const base = 'https://flux-webhook.example.com/';
const want = (token: string): HookSpec => ({
  url: hookUrl(base, webhookPath(token)),
  secret: token,
  contentType: 'json',
  events: ['push'],
});

describe('webhook', () => {
  it('hangs the Receiver path under the public URL', () => {
    const url = hookUrl(base, webhookPath('t0ken'));
    expect(url).toMatch(/^https:\/\/flux-webhook\.example\.com\/hook\/[0-9a-f]{64}$/);
    // The path is a digest: it holds neither the token nor moves without it.
    expect(url).not.toContain('t0ken');
    expect(webhookPath('t0ken')).not.toBe(webhookPath('t0ken2'));
    expect(webhookPath('t0ken', 'other')).not.toBe(webhookPath('t0ken'));
  });

  it('is created once as JSON on push with the token as secret; a re-run writes nothing', async () => {
    const host = fakeGitHost({ repo: fakeRepo(ref) });
    const log = memoryLogger();
    await ensureHook(host, ref, base, want('tok-1'), log);
    expect(host.state.hooks).toEqual([
      expect.objectContaining({ contentType: 'json', events: ['push'], active: true, secret: 'tok-1' }),
    ]);
    const writes = host.state.writes.length;
    await ensureHook(host, ref, base, want('tok-1'), log);
    expect(host.state.writes).toHaveLength(writes);
    expect(hookChanges(await inspectHooks(host, ref, base, want('tok-1')), ref)).toEqual([]);
  });

  it('repairs a form-encoded, inactive or stale-token webhook by replacing it; leaves other hooks alone', async () => {
    const host = fakeGitHost({ repo: fakeRepo(ref) });
    const good = want('tok-2');
    host.state.hooks.push(
      { id: 1, url: good.url, contentType: 'form', events: ['push'], active: true, secret: 'x' },
      { id: 2, url: want('old-token').url, contentType: 'json', events: ['push'], active: true, secret: 'y' },
      { id: 3, url: 'https://ci.example.com/hook', contentType: 'json', events: ['push'], active: true, secret: 'z' },
    );
    const found = await inspectHooks(host, ref, base, good);
    expect(hookChanges(found, ref)).toEqual([
      '~ webhook 1 on acme/fleet sends form, not json',
      '~ webhook 2 on acme/fleet points at another Receiver path (an older token)',
      '+ push webhook on acme/fleet to the Flux Receiver',
    ]);
    await ensureHook(host, ref, base, good, memoryLogger());
    expect(host.state.hooks.map((h) => [h.url === good.url, h.contentType])).toEqual([
      [false, 'json'],
      [true, 'json'],
    ]);
    expect(host.state.hooks[0]?.id).toBe(3);
  });

  it('removal deletes the cluster’s webhooks only', async () => {
    const host = fakeGitHost({ repo: fakeRepo(ref) });
    await ensureHook(host, ref, base, want('tok-3'), memoryLogger());
    host.state.hooks.push({ id: 50, url: 'https://ci/x', contentType: 'json', events: [], active: true, secret: '' });
    expect(await removeHooks(host, ref, base)).toBe(1);
    expect(host.state.hooks.map((h) => h.id)).toEqual([50]);
  });
});
