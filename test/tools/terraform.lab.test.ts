/**
 * The terraform/tofu wrapper against the lab's real OpenTofu: detection and version check, the working dir
 * (module copy, variables, backend), plan → show → apply → output → destroy on a built-in-only module, and the
 * translated failures, each provoked for real: a broken module, a lock held by a concurrent tofu, and an S3
 * backend without credentials.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec, type Exec } from '../../src/clients/exec.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { PlatctlError } from '../../src/errors.js';
import { createTerraform, detectTerraform, versionAtLeast } from '../../src/tools/terraform.js';
import { BACKEND_CONFIG_FILE, moduleHash, prepareWorkdir, VAR_FILE } from '../../src/tools/terraform-workdir.js';
import { labCluster, stopHolder, uniqueName, useLab } from '../helpers/cloud-context.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { waitForTofuLock } from '../helpers/tofu-lock.js';
import { lab } from '../lab/env.js';

const env = lab();
let home: string;
let tmp: string;

beforeAll(async () => {
  home = useLab(env);
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-tf-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(tmp, { recursive: true, force: true });
});

/** Writes a module dir from files; returns its path. */
async function module(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), text);
  }
  return dir;
}

const withModule = (c: ClusterConfig, dir: string, extra: Partial<ClusterConfig['terraform']> = {}): ClusterConfig => ({
  ...c,
  terraform: { ...c.terraform, module: dir, ...extra },
});

const simpleModule = (input: string) => ({
  'main.tf': `variable "cluster_name" { type = string }
variable "region" { type = string }
variable "kubernetes_version" { type = string }
variable "vpc_cidr" { type = string }
variable "tags" { type = map(string) }
resource "terraform_data" "a" { input = "${input}" }
resource "terraform_data" "b" { input = var.cluster_name }
output "cluster_name" { value = terraform_data.b.output }
output "tag_count" { value = length(var.tags) }
`,
});

describe('version check', () => {
  it('compares dotted versions', () => {
    expect(versionAtLeast('1.10.10', '1.6.0')).toBe(true);
    expect(versionAtLeast('v1.6.0', '1.6.0')).toBe(true);
    expect(versionAtLeast('1.5.7', '1.6.0')).toBe(false);
    expect(versionAtLeast('1.6.0-beta1', '1.6.0')).toBe(true);
    expect(versionAtLeast('garbage', '1.6.0')).toBe(false);
  });

  it('finds the lab tofu and reads its version', async () => {
    const found = await detectTerraform(createExec(), 'auto');
    expect(found).toEqual({ binary: 'tofu', version: env.versions.tofu.replace(/^v/, '') });
  });

  it('refuses a binary older than 1.6 and names it', async () => {
    const old: Exec = { run: async () => ({ stdout: '{"terraform_version":"1.5.7"}', stderr: '', exitCode: 0 }) };
    const err = await platctlFailure(detectTerraform(old, 'terraform'));
    expect(err.code).toBe('TOOL_MISSING');
    expect(err.message).toBe('terraform 1.5.7 is too old: platctl needs 1.6.0 or newer');
  });

  it('says which binaries it looked for when none is installed', async () => {
    const tried: string[] = [];
    const none: Exec = {
      run: async (file) => {
        tried.push(file);
        throw new PlatctlError('TOOL_MISSING', `${file} is not installed`);
      },
    };
    const err = await platctlFailure(detectTerraform(none, 'auto'));
    expect(tried).toEqual(['tofu', 'terraform']);
    expect(err.message).toBe('no tofu or terraform found on PATH');
  });
});

describe('working directory', () => {
  it('copies the module, writes variables and backend from config, and drops files the module lost', async () => {
    const dir = await module('wd-src', { 'main.tf': '# main\n', 'sub/x.tf': '# x\n', 'old.tf': '# old\n' });
    const base = labCluster(env, 'wd-test', {
      terraform: { vpcCidr: '10.42.0.0/16', variables: { node_min_size: 4 } },
    });
    const cluster = withModule(base, dir, {
      backend: { type: 's3', config: { bucket: 'acme-state', key: 'eks/wd-test.tfstate', encrypt: true } },
    });
    const wdDir = path.join(tmp, 'wd');
    const wd = await prepareWorkdir(cluster, wdDir);
    expect(wd.moduleHash).toBe(moduleHash(dir));
    expect(await readFile(path.join(wdDir, 'sub/x.tf'), 'utf8')).toBe('# x\n');
    const vars = JSON.parse(await readFile(path.join(wdDir, VAR_FILE), 'utf8'));
    expect(vars).toMatchObject({
      node_min_size: 4,
      cluster_name: 'wd-test',
      region: env.region,
      kubernetes_version: '1.34',
      vpc_cidr: '10.42.0.0/16',
      tags: { 'platctl.io/cluster': 'wd-test', 'platctl.io/step': 'cluster' },
    });
    expect((await stat(path.join(wdDir, VAR_FILE))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(wdDir, BACKEND_CONFIG_FILE), 'utf8')).toBe(
      'bucket = "acme-state"\nkey = "eks/wd-test.tfstate"\nencrypt = true\n',
    );
    expect(await readFile(path.join(wdDir, 'platctl_backend.tf'), 'utf8')).toContain('backend "s3" {}');

    // Terraform's own files survive a re-copy; a file removed from the module goes from the copy.
    await writeFile(path.join(wdDir, 'terraform.tfstate'), '{}');
    await rm(path.join(dir, 'old.tf'));
    const wd2 = await prepareWorkdir(cluster, wdDir);
    expect(existsSync(path.join(wdDir, 'old.tf'))).toBe(false);
    expect(existsSync(path.join(wdDir, 'terraform.tfstate'))).toBe(true);
    expect(wd2.moduleHash).not.toBe(wd.moduleHash);
  });

  it('overrides a backend the module declares instead of adding a second one', async () => {
    const dir = await module('wd-backend', { 'versions.tf': 'terraform {\n  backend "s3" {}\n}\n' });
    const wdDir = path.join(tmp, 'wd-backend-copy');
    await prepareWorkdir(withModule(labCluster(env, 'wd-b'), dir), wdDir);
    expect(await readFile(path.join(wdDir, 'platctl_backend_override.tf'), 'utf8')).toContain('backend "local" {}');
    expect(existsSync(path.join(wdDir, 'platctl_backend.tf'))).toBe(false);
  });

  it('rejects a module dir without *.tf files', async () => {
    const dir = await module('wd-empty', { 'README.md': 'nothing\n' });
    expect(() => moduleHash(dir)).toThrow(/has no \*\.tf files/);
  });
});

describe('plan, apply, output, destroy (real tofu)', () => {
  it('summarises the plan, streams apply progress, reads outputs, then plans no changes and destroys', async () => {
    const dir = await module('flow', simpleModule('one'));
    const cluster = withModule(labCluster(env, uniqueName('flow')), dir);
    const tf = createTerraform({ exec: createExec(), cluster, dir: path.join(tmp, 'flow-wd') });
    const plan = await tf.plan();
    expect(plan.changes).toBe(true);
    expect(plan.summary).toMatchObject({ add: 2, change: 0, destroy: 0 });
    expect(plan.summary?.resources).toEqual(['+ terraform_data.a', '+ terraform_data.b']);
    const progress: string[] = [];
    await tf.apply(plan.planFile, (m) => progress.push(m));
    expect(progress).toContain('terraform_data.a: create started');
    expect(progress.some((p) => /^terraform_data\.b: create complete after \d+s$/.test(p))).toBe(true);
    expect(progress.at(-1)).toMatch(/Apply complete! Resources: 2 added, 0 changed, 0 destroyed/);
    // Outputs become camelCase step outputs; numbers stay numbers.
    expect(await tf.outputs()).toEqual({ clusterName: cluster.name, tagCount: 2 });
    expect((await tf.plan()).changes).toBe(false);

    // Changing one resource and dropping another: "0 to add, 1 to change, 1 to destroy".
    await writeFile(
      path.join(dir, 'main.tf'),
      simpleModule('two')
        ['main.tf'].replace(/resource "terraform_data" "b".*\n/, '')
        .replace(/output "cluster_name".*\n/, ''),
    );
    const tf2 = createTerraform({ exec: createExec(), cluster, dir: path.join(tmp, 'flow-wd') });
    const plan2 = await tf2.plan();
    expect(plan2.summary).toMatchObject({ add: 0, change: 1, destroy: 1 });
    expect(plan2.summary?.resources).toEqual(['~ terraform_data.a', '- terraform_data.b']);

    const destroyed: string[] = [];
    await tf2.destroy((m) => destroyed.push(m));
    expect(destroyed.at(-1)).toMatch(/Destroy complete! Resources: 2 destroyed/);
    const state = JSON.parse(await readFile(path.join(tmp, 'flow-wd', 'terraform.tfstate'), 'utf8'));
    expect(state.resources).toEqual([]);
  });
});

describe('translated failures (provoked for real)', () => {
  it('a module error names the summary, the module file and the line', async () => {
    const dir = await module('broken', {
      'main.tf': 'resource "terraform_data" "ok" {}\n\nresource "terraform_data" "bad" {\n  no_such_argument = 1\n}\n',
    });
    const tf = createTerraform({
      exec: createExec(),
      cluster: withModule(labCluster(env, 'broken'), dir),
      dir: path.join(tmp, 'broken-wd'),
    });
    const err = await platctlFailure(tf.plan());
    expect(err.code).toBe('TERRAFORM_FAILED');
    expect(err.message).toMatch(/^tofu plan \(.*broken-wd\): Unsupported argument at /);
    expect(err.message).toContain(`${path.join(dir, 'main.tf')}:4`);
    expect(err.hint).toMatch(/An argument named "no_such_argument" is not expected here/);
  });

  it('a syntax error found by init names the file and line too', async () => {
    const dir = await module('syntax', { 'main.tf': 'resource "terraform_data" "x" {\n\n  input = \n}\n' });
    const tf = createTerraform({
      exec: createExec(),
      cluster: withModule(labCluster(env, 'syntax'), dir),
      dir: path.join(tmp, 'syntax-wd'),
    });
    const err = await platctlFailure(tf.plan());
    expect(err.message).toMatch(/^tofu init \(.*\): .+ at .*syntax\/main\.tf:\d+/);
  });

  it('a state lock held by a concurrent tofu names the holder and the force-unlock command', async () => {
    const dir = await module('locked', simpleModule('one'));
    const wdDir = path.join(tmp, 'locked-wd');
    const cluster = withModule(labCluster(env, 'locked'), dir);
    const tf = createTerraform({ exec: createExec(), cluster, dir: wdDir });
    await tf.apply((await tf.plan()).planFile, () => {});
    // A second tofu waits at its approval prompt for a pending change, holding the lock meanwhile.
    let holder: ChildProcess | undefined;
    try {
      holder = spawn(env.bins.tofu, ['apply', '-input=true', `-var-file=${VAR_FILE}`, '-var', 'cluster_name=other'], {
        cwd: wdDir,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const info = await waitForTofuLock(wdDir);
      const err = await platctlFailure(createTerraform({ exec: createExec(), cluster, dir: wdDir }).plan());
      expect(err.code).toBe('LOCK_HELD');
      expect(err.exitCode).toBe(3);
      expect(err.message).toContain(`the terraform state is locked by ${info.Who} (apply, since `);
      expect(err.message).toContain(`lock ID ${info.ID}`);
      expect(err.hint).toContain(`tofu -chdir=${wdDir} force-unlock ${info.ID}`);
    } finally {
      await stopHolder(holder);
    }
  });

  it('an S3 backend without credentials says so', async () => {
    const dir = await module('nocreds', simpleModule('one'));
    const cluster = withModule(labCluster(env, 'nocreds'), dir, {
      backend: { type: 's3', config: { bucket: 'platctl-state', key: 'x.tfstate', region: 'us-east-1' } },
    });
    const tf = createTerraform({
      exec: createExec(),
      cluster,
      dir: path.join(tmp, 'nocreds-wd'),
      env: {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_ENDPOINT_URL: undefined,
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    const err = await platctlFailure(tf.plan());
    expect(err.code).toBe('AWS_CREDENTIALS');
    expect(err.message).toMatch(/^tofu init \(.*\): no usable AWS credentials \(No valid credential sources found\)$/);
  });
});
