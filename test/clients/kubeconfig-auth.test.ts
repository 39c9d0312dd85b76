/** Kubeconfig resolution as kubectl does it, and exec-plugin tokens cached until they expire. */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { CLUSTER_ID_HEADER, decodeEksToken } from '../../src/aws/eks-token.js';
import { bearerSource, resolveKubeconfig } from '../../src/clients/kubeconfig-auth.js';
import { execArgs } from '../../src/kubeconfig.js';
import { maskSecrets } from '../../src/secrets.js';
import { saveEnv } from '../helpers/saved-env.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
const write = (name: string, doc: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, stringify(doc));
  return file;
};
afterEach(saveEnv('KUBECONFIG'));

const cluster = (name: string, server: string) => ({
  name,
  cluster: { server, 'certificate-authority-data': Buffer.from('CA').toString('base64') },
});

describe('resolveKubeconfig', () => {
  it('merges KUBECONFIG files: the first file to define a name wins, current-context from the first that sets it', () => {
    const a = write('a.yaml', {
      clusters: [cluster('c1', 'https://one:6443/')],
      users: [{ name: 'u1', user: { token: 'token-from-a-123' } }],
      contexts: [{ name: 'x', context: { cluster: 'c1', user: 'u1' } }],
      'current-context': 'x',
    });
    const b = write('b.yaml', {
      clusters: [cluster('c1', 'https://shadowed:6443'), cluster('c2', 'https://two:6443')],
      users: [{ name: 'u2', user: { token: 'token-from-b-456' } }],
      contexts: [{ name: 'y', context: { cluster: 'c2', user: 'u2' } }],
      'current-context': 'y',
    });
    process.env.KUBECONFIG = [a, b].join(path.delimiter);
    const current = resolveKubeconfig({});
    expect(current.server).toBe('https://one:6443');
    expect(current.ca?.toString()).toBe('CA');
    expect(resolveKubeconfig({ context: 'y' }).server).toBe('https://two:6443');
    expect(resolveKubeconfig({ kubeconfig: b }).server).toBe('https://two:6443');
  });

  it('names a missing context', () => {
    const f = write('c.yaml', { clusters: [], users: [], contexts: [], 'current-context': '' });
    expect(() => resolveKubeconfig({ kubeconfig: f, context: 'nope' })).toThrow(/kubeconfig has no context "nope"/);
    expect(() => resolveKubeconfig({ kubeconfig: path.join(dir, 'missing.yaml') })).toThrow(/cannot load kubeconfig/);
  });
});

describe('bearerSource', () => {
  it('runs an exec plugin once, caches its token until near expiry, and masks it', async () => {
    const count = path.join(dir, 'count');
    writeFileSync(count, '');
    const plugin = path.join(dir, 'plugin.sh');
    const expires = new Date(Date.now() + 14 * 60_000).toISOString();
    writeFileSync(
      plugin,
      `#!/bin/sh\necho run >> "${count}"\necho '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"k8s-aws-v1.'"$PLUGIN_SUFFIX"'","expirationTimestamp":"${expires}"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const f = write('exec.yaml', {
      clusters: [cluster('c', 'https://eks:443')],
      users: [
        {
          name: 'u',
          user: {
            exec: {
              command: plugin,
              args: [],
              env: [{ name: 'PLUGIN_SUFFIX', value: 'abcdefghijklmnopqrstuvwxyz0123' }],
            },
          },
        },
      ],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    });
    const auth = bearerSource(resolveKubeconfig({ kubeconfig: f }));
    // The first requests of a run go out together: they share one run of the plugin.
    const first = await Promise.all([auth(), auth(), auth()]);
    expect(new Set(first)).toEqual(new Set(['Bearer k8s-aws-v1.abcdefghijklmnopqrstuvwxyz0123']));
    expect(await auth()).toBe('Bearer k8s-aws-v1.abcdefghijklmnopqrstuvwxyz0123');
    expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(maskSecrets('token k8s-aws-v1.abcdefghijklmnopqrstuvwxyz0123')).not.toContain('abcdefghijklmnop');
  });

  describe("platctl's own exec plugin", () => {
    afterEach(saveEnv('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'));
    // A platctl that does not exist: a token can only come from this process.
    const absent = path.join(dir, 'no-such-dir', 'platctl');
    const eksConfig = (file: string, args: string[]) =>
      write(file, {
        clusters: [cluster('c', 'https://eks:443')],
        users: [{ name: 'u', user: { exec: { command: absent, args } } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      });

    it("makes the token of `platctl eks token` in-process: signed for the cluster with the caller's keys", async () => {
      process.env.AWS_ACCESS_KEY_ID = 'AKIAOWNEXECTEST00001';
      process.env.AWS_SECRET_ACCESS_KEY = 'own-exec-secret-key-for-the-test-only';
      delete process.env.AWS_SESSION_TOKEN;
      delete process.env.AWS_PROFILE;
      const f = eksConfig('own.yaml', execArgs({ cluster: 'demo', region: 'eu-west-1' }));
      const auth = bearerSource(resolveKubeconfig({ kubeconfig: f }));
      const header = await auth();
      const token = header?.replace(/^Bearer /, '') ?? '';
      const url = decodeEksToken(token);
      expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
      expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIAOWNEXECTEST00001\/\d{8}\/eu-west-1\/sts\//);
      expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain(CLUSTER_ID_HEADER);
      expect(await auth()).toBe(header);
      expect(maskSecrets(`token ${token}`)).not.toContain(token.slice(20, 40));
    });

    it('runs any other stanza naming platctl as the process it names', async () => {
      const args = [...execArgs({ cluster: 'demo', region: 'eu-west-1' }), '--output', 'json'];
      const auth = bearerSource(resolveKubeconfig({ kubeconfig: eksConfig('other.yaml', args) }));
      await expect(auth()).rejects.toThrow(/kubeconfig exec plugin ".*no-such-dir\/platctl" failed/);
    });
  });

  it('keeps a token whose expiry does not parse for a minute, not for ever', async () => {
    const count = path.join(dir, 'count-nan');
    writeFileSync(count, '');
    const plugin = path.join(dir, 'plugin-nan.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho run >> "${count}"\necho '{"status":{"token":"tok-without-a-usable-expiry","expirationTimestamp":"soon"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const f = write('nan.yaml', {
      clusters: [cluster('c', 'https://k:443')],
      users: [{ name: 'u', user: { exec: { command: plugin } } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    });
    const auth = bearerSource(resolveKubeconfig({ kubeconfig: f }));
    const runs = () => readFileSync(count, 'utf8').trim().split('\n').length;
    await auth();
    await auth();
    expect(runs()).toBe(1);
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      await auth();
    } finally {
      clock.mockRestore();
    }
    expect(runs()).toBe(2);
  });

  it('re-reads a tokenFile each time (projected tokens rotate)', async () => {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'first-token\n');
    const f = write('tf.yaml', {
      clusters: [cluster('c', 'https://k:443')],
      users: [{ name: 'u', user: { tokenFile: 'token' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    });
    const auth = bearerSource(resolveKubeconfig({ kubeconfig: f }));
    expect(await auth()).toBe('Bearer first-token');
    writeFileSync(tokenFile, 'second-token\n');
    expect(await auth()).toBe('Bearer second-token');
  });
});
