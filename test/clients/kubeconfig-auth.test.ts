/** Kubeconfig resolution as kubectl does it, and exec-plugin tokens cached until they expire. */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { bearerSource, resolveKubeconfig } from '../../src/clients/kubeconfig-auth.js';
import { maskSecrets } from '../../src/secrets.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
const write = (name: string, doc: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, stringify(doc));
  return file;
};
const saved = process.env.KUBECONFIG;
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
});

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
    expect(await auth()).toBe('Bearer k8s-aws-v1.abcdefghijklmnopqrstuvwxyz0123');
    expect(await auth()).toBe('Bearer k8s-aws-v1.abcdefghijklmnopqrstuvwxyz0123');
    expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(maskSecrets('token k8s-aws-v1.abcdefghijklmnopqrstuvwxyz0123')).not.toContain('abcdefghijklmnop');
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
