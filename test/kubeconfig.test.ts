/**
 * Writing platctl's kubeconfig entry: a merge keeps every other cluster, user, context, key and comment; the
 * file is 0600; re-merging is idempotent; removal takes only platctl's entry. The result is read back with
 * client-node (what platctl's kube client and kubectl-alikes load).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  EXEC_API_VERSION,
  hasKubeconfigEntry,
  type KubeconfigEntry,
  kubeconfigPath,
  mergeKubeconfigEntry,
  readKubeconfigEntry,
  removeKubeconfigEntry,
} from '../src/kubeconfig.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platctl-kubeconfig-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const existing = `# my clusters, hand-written
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
  - name: home
    cluster:
      server: https://home.example:6443 # the NUC
      insecure-skip-tls-verify: true
users:
  - name: me
    user:
      token: not-a-real-token
contexts:
  - name: home
    context:
      cluster: home
      user: me
      namespace: lab
current-context: home
`;

const entry = (over: Partial<KubeconfigEntry> = {}): KubeconfigEntry => ({
  context: 'demo',
  name: 'arn:aws:eks:eu-west-1:123456789012:cluster/demo',
  server: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  caData: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
  cluster: 'demo',
  region: 'eu-west-1',
  ...over,
});

describe('kubeconfigPath', () => {
  it('prefers the explicit path, then KUBECONFIG’s first file, then ~/.kube/config', () => {
    expect(kubeconfigPath('/x/config', { KUBECONFIG: '/a:/b' })).toBe('/x/config');
    expect(kubeconfigPath(undefined, { KUBECONFIG: `/a/one${path.delimiter}/b/two` })).toBe('/a/one');
    expect(kubeconfigPath(undefined, { KUBECONFIG: `${path.delimiter}/b/two` })).toBe('/b/two');
    expect(kubeconfigPath(undefined, {})).toBe(path.join(os.homedir(), '.kube', 'config'));
  });
});

describe('merge', () => {
  it('adds the entry and keeps every other entry, key and comment', async () => {
    const file = path.join(tmp, 'merge-config');
    await writeFile(file, existing, { mode: 0o644 });
    await mergeKubeconfigEntry(file, entry({ profile: 'platform' }));
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# my clusters, hand-written');
    expect(text).toContain('# the NUC');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const before = parse(existing);
    const after = parse(text);
    expect(after.preferences).toEqual(before.preferences);
    expect(after['current-context']).toBe('home');
    expect(after.clusters[0]).toEqual(before.clusters[0]);
    expect(after.users[0]).toEqual(before.users[0]);
    expect(after.contexts[0]).toEqual(before.contexts[0]);
    expect(after.users[1]).toEqual({
      name: entry().name,
      user: {
        exec: {
          apiVersion: EXEC_API_VERSION,
          command: 'platctl',
          args: ['eks', 'token', '--cluster', 'demo', '--region', 'eu-west-1'],
          env: [{ name: 'AWS_PROFILE', value: 'platform' }],
          interactiveMode: 'Never',
          provideClusterInfo: false,
        },
      },
    });

    // What client-node sees: our context → our cluster → our exec user.
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    expect(kc.getContexts().map((c) => c.name)).toEqual(['home', 'demo']);
    kc.setCurrentContext('demo');
    expect(kc.getCurrentCluster()?.server).toBe(entry().server);
    expect(kc.getCurrentCluster()?.caData).toBe(entry().caData);
    expect(kc.getCurrentUser()?.exec?.command).toBe('platctl');
  });

  it('is idempotent, and replaces (never duplicates) a changed entry', async () => {
    const file = path.join(tmp, 'idem-config');
    await writeFile(file, existing);
    await mergeKubeconfigEntry(file, entry());
    const once = await readFile(file, 'utf8');
    await mergeKubeconfigEntry(file, entry());
    expect(await readFile(file, 'utf8')).toBe(once);
    expect(await hasKubeconfigEntry(file, entry())).toBe(true);
    expect(await hasKubeconfigEntry(file, entry({ server: 'https://new.example' }))).toBe(false);

    await mergeKubeconfigEntry(
      file,
      entry({ server: 'https://new.example', roleArn: 'arn:aws:iam::123456789012:role/ops' }),
    );
    const after = parse(await readFile(file, 'utf8'));
    expect(after.clusters).toHaveLength(2);
    expect(after.users).toHaveLength(2);
    expect(after.contexts).toHaveLength(2);
    const got = await readKubeconfigEntry(file, 'demo');
    expect(got?.server).toBe('https://new.example');
    expect(got?.args).toEqual([
      'eks',
      'token',
      '--cluster',
      'demo',
      '--region',
      'eu-west-1',
      '--role-arn',
      'arn:aws:iam::123456789012:role/ops',
    ]);
  });

  it('creates a missing file (and its directory) and makes the entry current', async () => {
    const file = path.join(tmp, 'new', 'dir', 'config');
    await mergeKubeconfigEntry(file, entry());
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    expect(kc.getCurrentContext()).toBe('demo');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});

describe('remove', () => {
  it('removes only platctl’s cluster, user and context', async () => {
    const file = path.join(tmp, 'remove-config');
    await writeFile(file, existing);
    await mergeKubeconfigEntry(file, entry());
    expect(await removeKubeconfigEntry(file, 'demo', 'demo')).toBe(true);
    expect(parse(await readFile(file, 'utf8'))).toEqual(parse(existing));
    expect(await removeKubeconfigEntry(file, 'demo', 'demo')).toBe(false);
  });

  it('leaves a same-named context the user wrote', async () => {
    const file = path.join(tmp, 'foreign-config');
    await writeFile(file, existing);
    expect(await removeKubeconfigEntry(file, 'home', 'home')).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(existing);
  });
});
