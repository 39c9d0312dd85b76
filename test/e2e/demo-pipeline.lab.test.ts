/**
 * The REAL demo pipeline (built CLI, examples/lab/platform.yaml, the lab), bootstrapped ONCE for two audits that
 * both need a finished demo (one bootstrap and one teardown instead of one each: ~85 s of the lab run).
 *
 * Secrets audit, on the demo's own command sequence: a full bootstrap with --debug, a re-run with --output json,
 * two `add-tenant --apply`, and `status` (text and JSON, and `--vars` as JSON and env). No secret reaches stdout,
 * stderr, the state ConfigMap, the cluster variables (ConfigMap flux-system/platform-vars), any file under
 * PLATCTL_HOME (the encrypted Vault output included: it must hold ciphertext only), the fleet repo, or a
 * leftover temp file; the files holding key material are 0600. AWS_SECRET_ACCESS_KEY
 * is a random 40-character value for platctl (moto accepts any), so a leak of it is recognisable.
 * The git host token (GITEA_TOKEN: the demo's fleet repo is on the lab's Gitea) is among the needles.
 * Vault is reached as on EKS: a port-forward to a server pod, which kwok forwards to the lab's OpenBao.
 *
 * The hand-off to Flux: after that bootstrap, the real helm-controller (the lab runs the Flux controllers) takes
 * over the Helm releases the istio and vault steps installed: it finds each one in Helm's storage and upgrades it
 * in place, with the same chart and values, so each name keeps one release, one revision further. The charts
 * come from the lab's loopback chart repository (flux.charts); the pods are kwok's, Ready after the pod-ready
 * delay, so helm's wait is real.
 *
 * Flux is real (the lab runs its controllers); scripts/demo-player.ts only plays the admin of the tenants' git
 * server, adding their deploy keys read-only. The tenants' deploy keys are audited like Flux's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../scripts/demo-lib.js';
import { startPlayer } from '../../scripts/demo-player.js';
import type { KubeObject } from '../../src/clients/kube.js';
import { DEPLOY_KEY_LABEL } from '../../src/tenants/keys.js';
import { PLATFORM_VARS_REF } from '../../steps/vars.js';
import {
  bootstrap,
  type CliResult,
  cleanDemo,
  cli,
  type Demo,
  readStateConfigMapText,
  setupDemo,
  stopStrayRuns,
} from '../helpers/e2e.js';
import { decryptBase64, type TestKey } from '../helpers/pgp-keys.js';
import { scanLabLogs } from '../lab/loopback.js';

const awsSecret = randomBytes(30).toString('base64').replace(/[+/=]/g, 'x').slice(0, 40);
let demo: Demo;
let stopPlayer: () => void = () => undefined;
let debugRun: CliResult;
let jsonRun: CliResult;
const later: CliResult[] = [];
let fleet: string;
let keyDirsBefore: string[];
/** platctl's temporary deploy-key folders (git/git.ts): each must be gone once its command ends. */
const keyDirs = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('platctl-key-'));

beforeAll(async () => {
  demo = await setupDemo('secrets', { AWS_SECRET_ACCESS_KEY: awsSecret });
  stopPlayer = await startPlayer(demo.lab, () => undefined);
  keyDirsBefore = keyDirs();
  debugRun = await bootstrap(demo, ['--debug']);
  jsonRun = await bootstrap(demo, ['--output', 'json']);
  // The rest of `npm run demo`: two tenants, then status.
  for (const tenant of ['team-a', 'team-b']) {
    const args = ['add-tenant', 'demo', tenant, '--config', demoConfig, '--repo', demo.lab.fleetUrl];
    later.push(await cli(demo, [...args, '--path', `./teams/${tenant}`, '--apply', '--yes', '--debug']));
  }
  later.push(await cli(demo, ['status', 'demo', '--config', demoConfig]));
  later.push(await cli(demo, ['status', 'demo', '--config', demoConfig, '--output', 'json']));
  // The cluster variables, as a team copies them into a shell or a script.
  for (const output of ['json', 'env'])
    later.push(await cli(demo, ['status', 'demo', '--config', demoConfig, '--vars', '--output', output]));
  // What platctl pushed to the fleet repo, as anyone with read access sees it.
  fleet = mkdtempSync(path.join(os.tmpdir(), 'platctl-audit-fleet-'));
  await execa('git', ['clone', '-q', demo.lab.gitea.fleetUrl, fleet], {
    env: { GIT_SSH_COMMAND: demo.lab.gitSshCommand },
  });
}, 600_000);
afterAll(async () => {
  await stopStrayRuns();
  stopPlayer();
  if (fleet) rmSync(fleet, { recursive: true, force: true });
  if (demo) await cleanDemo(demo);
}, 600_000);

/** Every file under dir, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const mode = (file: string) => statSync(file).mode & 0o777;
/** Files holding key material (PGP-encrypted Vault output and its intent): must be 0600. */
const isSecretFile = (file: string) => /vault-init(\.intent)?\.json$|\.tfvars(\.json)?$|identity|\.key$/.test(file);

describe('secrets audit of the demo pipeline', () => {
  it('bootstraps with --debug and re-runs with --output json', () => {
    expect(debugRun.exitCode, debugRun.stderr).toBe(0);
    expect(jsonRun.exitCode, jsonRun.stderr).toBe(0);
    expect(JSON.parse(jsonRun.stdout).ok).toBe(true);
    for (const r of later) expect(r.exitCode, r.stderr).toBe(0);
  });

  it("remembers the preflight's native tools and PGP keys (fingerprints only, 0600) for the re-run", () => {
    const file = path.join(demo.home, 'preflight-memo.json');
    expect(mode(file)).toBe(0o600);
    const memo = JSON.parse(readFileSync(file, 'utf8')) as {
      tools: Record<string, { detail: string }>;
      keys: Record<string, { fingerprint: string }>;
    };
    expect(Object.keys(memo.tools)).toEqual(
      expect.arrayContaining(['terraform/tofu@1.6', 'helm@3.12', 'git@2.30', 'ssh@7.6']),
    );
    expect(memo.tools['helm@3.12']?.detail).toMatch(/^helm v3\.\d+\.\d+/);
    const fingerprints = Object.values(memo.keys).map((k) => k.fingerprint);
    expect(fingerprints.length).toBeGreaterThanOrEqual(2);
    for (const f of fingerprints) expect(f).toMatch(/^[0-9A-F]{40}$/);
  });

  it('kept every lab component on loopback: no webhook call, no dial or lookup off 127.0.0.0/8', () => {
    expect(scanLabLogs(demo.lab.logsDir)).toEqual([]);
  });

  it('leaks no secret into stdout, stderr, the state ConfigMap or non-secret files under PLATCTL_HOME', async () => {
    const secret = await demo.kube.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'flux-system',
      name: 'flux-system',
    });
    const tenantKeys = await demo.kube.list<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', {
      labelSelector: DEPLOY_KEY_LABEL,
    });
    expect(tenantKeys.map((k) => `${k.metadata.namespace}/${k.metadata.name}`).sort()).toEqual([
      'team-a/team-a-deploy-key',
      'team-b/team-b-deploy-key',
    ]);
    // Each key's body lines (what a leak would carry even without the armour).
    const identityBody = [secret, ...tenantKeys].flatMap((s) => {
      const identity = Buffer.from(s?.data?.identity ?? '', 'base64').toString('utf8');
      expect(identity).toMatch(/PRIVATE KEY-----/);
      return identity
        .split('\n')
        .filter((l) => l.length > 40 && !l.startsWith('-----'))
        .slice(0, 3);
    });

    const init = JSON.parse(readFileSync(path.join(demo.home, 'demo', 'vault-init.json'), 'utf8')) as {
      keys_base64?: string[];
      recovery_keys_base64?: string[];
      root_token: string;
    };
    const pgp = path.join(demo.lab.labDir, 'demo', 'pgp');
    const holder = (name: string): TestKey => ({
      name,
      publicFile: path.join(pgp, `${name}.asc`),
      privateArmored: readFileSync(path.join(pgp, `${name}.private.asc`), 'utf8'),
      fingerprint: '',
    });
    const shares = init.keys_base64 ?? init.recovery_keys_base64 ?? [];
    expect(shares).toHaveLength(3);
    const plaintexts = [
      ...(await Promise.all(shares.map((s, i) => decryptBase64(s, holder(`share-${i}`))))),
      await decryptBase64(init.root_token, holder('root')),
    ];
    for (const p of plaintexts) expect(p.length).toBeGreaterThan(10);

    // The cluster variables Flux substitutes: in the cluster, and what status --vars prints.
    const vars = await demo.kube.get<KubeObject & { data?: Record<string, string> }>(PLATFORM_VARS_REF);
    expect(vars?.data?.vault_iam_role_arn).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(JSON.parse(later.at(-2)?.stdout ?? '{}')).toEqual(vars?.data);

    const secretFiles = walk(demo.home).filter(isSecretFile);
    expect(secretFiles.some((f) => f.endsWith('vault-init.json'))).toBe(true);
    for (const f of secretFiles) expect(mode(f), f).toBe(0o600);

    const haystacks: [string, string][] = [
      ['debug stdout', debugRun.stdout],
      ['debug stderr', debugRun.stderr],
      ['json stdout', jsonRun.stdout],
      ['json stderr', jsonRun.stderr],
      ['state ConfigMap', await readStateConfigMapText(demo.kube)],
      ['ConfigMap flux-system/platform-vars', JSON.stringify(vars ?? {})],
      ...later.flatMap((r, i): [string, string][] => [
        [`later run ${i} stdout`, r.stdout],
        [`later run ${i} stderr`, r.stderr],
      ]),
      ...[...walk(demo.home), ...walk(fleet).filter((f) => !f.includes(`${path.sep}.git${path.sep}`))].map(
        (f): [string, string] => [f, readFileSync(f, 'latin1')],
      ),
    ];
    expect(keyDirs().filter((d) => !keyDirsBefore.includes(d))).toEqual([]);
    // The git host token platctl used (the lab Gitea's admin token, from GITEA_TOKEN).
    const needles = [awsSecret, ...identityBody, ...plaintexts, demo.lab.gitea.token];
    for (const [where, text] of haystacks) {
      expect(text, where).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      for (const n of needles) expect(text.includes(n), `${where} contains a secret`).toBe(false);
    }
  });
});

type HelmRelease = KubeObject & {
  spec: { releaseName: string; targetNamespace: string; chart: { spec: { chart: string; version: string } } };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
};

const helm = (args: string[]) =>
  execa(demo.lab.bins.helm, [...args, '--kubeconfig', demo.lab.kubeconfig, '--output', 'json']).then(
    (r) => JSON.parse(r.stdout) as unknown,
  );

describe('Flux adopts the releases bootstrap installed', () => {
  it('helm-controller upgrades each release in place: one release per name, the same chart and values', async () => {
    expect(debugRun.exitCode, debugRun.stderr).toBe(0);
    const list = () =>
      demo.kube.list<HelmRelease>('helm.toolkit.fluxcd.io/v2', 'HelmRelease', { namespace: 'flux-system' });
    const ready = (r: HelmRelease) => r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    let releases: HelmRelease[] = [];
    for (let i = 0; i < 600 && !(releases.length === 4 && releases.every(ready)); i++) {
      releases = await list();
      await sleep(500);
    }
    const show = releases.map((r) => `${r.metadata.name}: ${JSON.stringify(r.status?.conditions)}`).join('\n');
    expect(releases.map((r) => r.metadata.name).sort(), show).toEqual([
      'istio-base',
      'istio-ingress',
      'istiod-1-30-3',
      'vault',
    ]);
    expect(releases.every(ready), show).toBe(true);

    for (const r of releases) {
      const { releaseName: name, targetNamespace: ns } = r.spec;
      const all = (await helm(['list', '--all', '--namespace', ns, '--filter', `^${name}$`])) as unknown[];
      expect(all, `${ns}/${name}: one release`).toHaveLength(1);
      const history = (await helm(['history', name, '--namespace', ns])) as {
        revision: number;
        status: string;
        chart: string;
        description: string;
      }[];
      const last = history.at(-1)!;
      const before = history.at(-2)!;
      // platctl's install (and its own upgrades), then helm-controller's upgrade on top.
      expect(before, `${ns}/${name}: the release platctl installed`).toMatchObject({ status: 'superseded' });
      expect(last, `${ns}/${name}`).toMatchObject({
        status: 'deployed',
        description: 'Upgrade complete',
        chart: `${r.spec.chart.spec.chart}-${r.spec.chart.spec.version}`,
      });
      expect(last.chart).toBe(before.chart);
      const values = (rev: number) => helm(['get', 'values', name, '--namespace', ns, '--revision', String(rev)]);
      expect(await values(last.revision), `${ns}/${name}: values unchanged by the adoption`).toEqual(
        await values(before.revision),
      );
    }
  });
});
