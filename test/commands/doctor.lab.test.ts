/** `platctl doctor` and an unreachable cluster, through a real platctl process against the lab. */
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { platctl, sandbox } from '../helpers/platctl.js';
import { lab } from '../lab/env.js';

/** A PATH holding only the named programs (symlinked), so a test can take one away. */
function pathWith(programs: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'platctl-path-'));
  for (const [name, target] of Object.entries(programs)) symlinkSync(target, path.join(dir, name));
  return dir;
}

describe('platctl doctor', () => {
  it('passes on the lab: tools found with versions, moto credentials, apiserver reachable', async () => {
    const sb = sandbox(lab(), 'doctor');
    const r = await platctl(['doctor', '--config', sb.config, '--output', 'json'], sb.env);
    expect(r.exitCode, r.all).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName['terraform/tofu']?.detail).toMatch(/^tofu v1\.\d+\.\d+/);
    expect(byName.helm?.detail).toMatch(/^helm v3\./);
    expect(byName['aws credentials']?.detail).toContain('123456789012');
    expect(byName.kubernetes?.detail).toContain(lab().apiserverUrl.replace(/\/$/, ''));
  });

  it('fails with exit 1 naming what is missing', async () => {
    const sb = sandbox(lab(), 'doctor');
    const bins = pathWith({ git: '/usr/bin/git', 'ssh-keyscan': '/usr/bin/ssh-keyscan', tofu: lab().bins.tofu });
    const r = await platctl(['doctor', '--config', sb.config], {
      ...sb.env,
      PATH: `${bins}:${path.dirname(process.execPath)}`,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✗ helm\s+not found on PATH/);
    expect(r.stderr).toContain('required check failed: helm');
  });

  it('with fleet.provider gitea: a row says whether GITEA_TOKEN is set, never its value; unset fails', async () => {
    const env = lab();
    const fleet = { url: env.gitea.fleetUrl, provider: 'gitea', apiUrl: env.gitea.url };
    const sb = sandbox(env, 'doctor', { fleet });
    const set = await platctl(['doctor', '--config', sb.config], sb.env);
    expect(set.exitCode, set.all).toBe(0);
    expect(set.stdout).toMatch(
      new RegExp(`✔ git host token\\s+GITEA_TOKEN is set \\(fleet.provider gitea, ${env.gitea.url}\\)`),
    );
    expect(set.all).not.toContain(env.gitea.token);
    const unset = await platctl(['doctor', '--config', sb.config], { ...sb.env, GITEA_TOKEN: '' });
    expect(unset.exitCode).toBe(1);
    expect(unset.stdout).toMatch(/✗ git host token\s+GITEA_TOKEN is not set: fleet.provider gitea needs a token/);
    expect(unset.stderr).toContain('required check failed: git host token');
  });

  it('reports a wrong AWS account', async () => {
    const sb = sandbox(lab(), 'doctor');
    writeFileSync(
      sb.config,
      (await import('node:fs')).readFileSync(sb.config, 'utf8').replace('123456789012', '999999999999'),
    );
    const r = await platctl(['doctor', '--config', sb.config], sb.env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/account 123456789012 but config says 999999999999/);
  });
});

describe('an unreachable cluster', () => {
  it('is one clear line naming the server, with no stack trace', async () => {
    const sb = sandbox(lab(), 'gone');
    const kubeconfig = path.join(sb.dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: gone, user: {token: not-a-secret}}]
contexts: [{name: gone, context: {cluster: gone, user: gone}}]
current-context: gone
`,
    );
    // With state already in the cluster, status must reach it; point the journal there.
    const home = path.join(sb.home, 'gone');
    (await import('node:fs')).mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'state.json'), JSON.stringify({ version: 1, cluster: 'gone', location: 'cluster' }));
    const r = await platctl(['status', 'gone', '--config', sb.config, '--kubeconfig', kubeconfig], sb.env);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('cannot reach the Kubernetes API at https://127.0.0.1:1 (ECONNREFUSED)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
