/**
 * loadConfig on real files: YAML errors, a missing file, ${VAR} expansion, defaults, relative paths resolved
 * against the config's directory, and the shipped lab example. Plus selectCluster's message.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, selectCluster } from '../../src/config/load.js';
import { isPlatctlError, type PlatctlError } from '../../src/errors.js';
import { packageRoot } from '../../src/paths.js';
import { rawCluster, rawPlatform, withField } from '../helpers/config.js';
import { saveEnv } from '../helpers/saved-env.js';

/** `${name}` as written in platform.yaml (built so it is obviously not a template literal). */
const envRef = (name: string) => '$' + '{' + name + '}';

const LAB_VARS = ['PLATCTL_LAB_DIR', 'PLATCTL_LAB_GITEA_FLEET_URL', 'PLATCTL_LAB_GITEA_URL', 'PLATCTL_LAB_CHARTS_URL'];
let dir: string;
let restoreEnv: () => void;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'platctl-config-'));
  restoreEnv = saveEnv(...LAB_VARS);
});
afterEach(() => {
  restoreEnv();
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

async function refuse(file: string): Promise<PlatctlError> {
  const err = await loadConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPlatctlError(err)) throw new Error(`expected a PlatctlError, got ${String(err)}`);
  return err;
}

describe('loadConfig refuses', () => {
  it('a YAML syntax error, with its line, exit 2', async () => {
    const file = write('bad.yaml', 'clusters:\n  - name: demo\n    aws: {accountId: "1", region\n');
    const err = await refuse(file);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`${file} is not valid YAML`);
    expect(err.message).toMatch(/line \d+:/);
  });

  it('a missing file with CONFIG_NOT_FOUND naming it, exit 2', async () => {
    const file = path.join(dir, 'nope.yaml');
    const err = await refuse(file);
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(file);
    expect(err.message).toContain('ENOENT');
  });

  it('an unset environment variable, naming the field and the variable', async () => {
    delete process.env.PLATCTL_TEST_SURELY_UNSET;
    const raw = withField(
      rawPlatform(),
      ['clusters', 0, 'kubernetes', 'kubeconfig'],
      `${envRef('PLATCTL_TEST_SURELY_UNSET')}/kc`,
    );
    const err = await refuse(write('p.yaml', stringify(raw)));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(
      'clusters[0].kubernetes.kubeconfig: environment variable PLATCTL_TEST_SURELY_UNSET is not set',
    );
  });

  it('a file with three mistakes, listing three lines', async () => {
    const text = [
      'clusters:',
      '  - name: demo',
      '    aws: { accountId: "123456789012", region: us-east }',
      '    kubernetes: { version: "1.34", acess: eks }',
      '    fleet: { url: "ssh://git@example.com/fleet.git" }',
      '    vault: { keyShares: 3, keyThreshold: 5 }',
    ].join('\n');
    const err = await refuse(write('three.yaml', text));
    const lines = err.message.split('\n').slice(1);
    expect(lines).toHaveLength(3);
    expect(err.message).toContain('(3 problems)');
    expect(err.message).toContain('clusters[0].aws.region:');
    expect(err.message).toContain('clusters[0].kubernetes.acess: unknown key');
    expect(err.message).toContain('clusters[0].vault.keyThreshold: must be ≤ keyShares (3)');
  });
});

describe('loadConfig accepts', () => {
  it('examples/lab/platform.yaml once the lab variables are set, resolving its paths', async () => {
    process.env.PLATCTL_LAB_DIR = '/srv/lab-dir';
    process.env.PLATCTL_LAB_GITEA_FLEET_URL = 'ssh://git@127.0.0.1:2222/platctl-admin/fleet.git';
    process.env.PLATCTL_LAB_GITEA_URL = 'http://127.0.0.1:3000';
    process.env.PLATCTL_LAB_CHARTS_URL = 'http://127.0.0.1:8879';
    const exampleDir = path.join(packageRoot, 'examples', 'lab');
    const config = await loadConfig(path.join(exampleDir, 'platform.yaml'));
    const demo = selectCluster(config, 'demo', 'platform.yaml');
    expect(demo.kubernetes.kubeconfig).toBe('/srv/lab-dir/kubeconfig');
    expect(demo.fleet).toMatchObject({
      url: 'ssh://git@127.0.0.1:2222/platctl-admin/fleet.git',
      provider: 'gitea',
      apiUrl: 'http://127.0.0.1:3000',
    });
    expect(demo.terraform.module).toBe(path.join(exampleDir, 'terraform'));
    expect(demo.flux.manifests).toBe(path.resolve(exampleDir, '../../../shared/fixtures/flux/install.yaml'));
    expect(demo.vault.chart).toBe(path.resolve(exampleDir, '../../../shared/fixtures/charts/vault'));
    expect(demo.vault.keyShares).toBe(3);
    // Flux pulls the adopted charts from the lab's loopback chart repository.
    expect(demo.flux.charts).toEqual({
      istio: { url: 'http://127.0.0.1:8879/istio' },
      vault: { url: 'http://127.0.0.1:8879/hashicorp' },
    });
  });

  it('fills defaults for everything left out', async () => {
    const raw = withField(rawPlatform(), ['clusters', 0, 'tenants'], [{ name: 'team-a' }]);
    const config = await loadConfig(write('min.yaml', stringify(raw)));
    const c = config.clusters[0]!;
    expect(c.kubernetes.access).toBe('eks');
    expect(c.terraform).toMatchObject({ binary: 'auto', vpcCidr: '10.0.0.0/16', backend: { type: 'local' } });
    expect(c.terraform.module).toBe(path.join(packageRoot, 'templates/terraform/eks'));
    expect(c.fleet).toMatchObject({ branch: 'main', keyType: 'ed25519' });
    expect(c.flux).toMatchObject({ version: 'v2.9.4', timeout: '10m' });
    expect(c.istio).toMatchObject({ version: '1.30.3', tags: ['prod-stable'] });
    expect(c.istio.charts).toBe('https://istio-release.storage.googleapis.com/charts');
    expect(c.vault).toMatchObject({ namespace: 'vault', replicas: 3, keyShares: 5, keyThreshold: 3, pgpKeys: [] });
    expect(c.vault.chart).toBe('https://helm.releases.hashicorp.com');
    expect(c.access).toEqual({ admins: [], readOnly: [] });
    expect(c.tenants[0]).toMatchObject({ name: 'team-a', role: 'admin', branch: 'main', path: './', hosts: [] });
  });

  it('resolves relative paths against the config file, keeping URLs and absolute paths', async () => {
    let raw = rawPlatform();
    raw = withField(raw, ['clusters', 0, 'kubernetes', 'kubeconfig'], './kube/config');
    raw = withField(raw, ['clusters', 0, 'terraform', 'module'], 'infra/eks');
    raw = withField(raw, ['clusters', 0, 'flux', 'manifests'], '/opt/flux/install.yaml');
    raw = withField(raw, ['clusters', 0, 'istio', 'charts'], 'oci://registry.example.com/istio');
    raw = withField(raw, ['clusters', 0, 'vault'], {
      chart: '../charts/vault',
      keyShares: 2,
      keyThreshold: 2,
      pgpKeys: ['keys/a.asc', 'keys/b.asc'],
      rootTokenPgpKey: 'keys/root.asc',
    });
    const sub = path.join(dir, 'conf');
    const file = path.join(sub, 'platform.yaml');
    mkdirSync(sub);
    writeFileSync(file, stringify(raw));
    const c = (await loadConfig(path.relative(process.cwd(), file))).clusters[0]!;
    expect(c.kubernetes.kubeconfig).toBe(path.join(sub, 'kube/config'));
    expect(c.terraform.module).toBe(path.join(sub, 'infra/eks'));
    expect(c.flux.manifests).toBe('/opt/flux/install.yaml');
    expect(c.istio.charts).toBe('oci://registry.example.com/istio');
    expect(c.vault.chart).toBe(path.join(dir, 'charts/vault'));
    expect(c.vault.pgpKeys).toEqual([path.join(sub, 'keys/a.asc'), path.join(sub, 'keys/b.asc')]);
    expect(c.vault.rootTokenPgpKey).toBe(path.join(sub, 'keys/root.asc'));
  });

  it('keeps a doubled $ as a literal reference', async () => {
    const raw = withField(rawPlatform(), ['clusters', 0, 'aws', 'tags'], { note: `cost $${envRef('CENTRE')}` });
    const config = await loadConfig(write('lit.yaml', stringify(raw)));
    expect(config.clusters[0]?.aws.tags).toEqual({ note: `cost ${envRef('CENTRE')}` });
  });
});

describe('selectCluster', () => {
  it('fails for an unknown cluster, listing the ones the file defines, exit 2', async () => {
    const config = await loadConfig(write('two.yaml', stringify(rawPlatform(rawCluster('alpha'), rawCluster('beta')))));
    expect(selectCluster(config, 'beta', 'two.yaml').name).toBe('beta');
    let err: unknown;
    try {
      selectCluster(config, 'gamma', 'two.yaml');
    } catch (e) {
      err = e;
    }
    expect(isPlatctlError(err) && err.code).toBe('CLUSTER_NOT_IN_CONFIG');
    expect((err as PlatctlError).exitCode).toBe(2);
    expect((err as Error).message).toBe('cluster "gamma" is not in two.yaml (it defines: alpha, beta)');
  });
});
