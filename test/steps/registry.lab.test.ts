/**
 * The registry step against the lab apiserver (real server-side apply): the ecr-credentials-sync CronJob,
 * ServiceAccount and RBAC land in flux-system with the 6-hour schedule, the IRSA role annotation and images
 * rewritten to the mirror; the cheap check is one read; a config change is drift; destroy removes everything.
 * The job's own script is run here too, with a fake `aws`, and its Secret applied with the lab's kubectl exactly
 * as the job's second container would (no kubelet in the lab, so the CronJob itself never runs).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { PlatctlError } from '../../src/errors.js';
import { ECR_SYNC, TOKEN_SCRIPT } from '../../src/registry/manifests.js';
import { registryStep } from '../../steps/registry.js';
import { awsCluster, awsContext, countingKube, uniqueCluster, useLabAws } from '../helpers/aws-context.js';
import { lab, labProcessEnv } from '../lab/env.js';

const env = lab();
useLabAws(env);
const NS = ECR_SYNC.namespace;
const ref = (apiVersion: string, kind: string, name: string = ECR_SYNC.name) => ({
  apiVersion,
  kind,
  name,
  namespace: NS,
});
const CRONJOB = ref('batch/v1', 'CronJob');
const SA = ref('v1', 'ServiceAccount');
const ROLE = ref('rbac.authorization.k8s.io/v1', 'Role');
const BINDING = ref('rbac.authorization.k8s.io/v1', 'RoleBinding');
const SECRET = ref('v1', 'Secret', ECR_SYNC.secretName);

type CronJob = KubeObject & {
  spec: {
    schedule: string;
    jobTemplate: {
      spec: { template: { spec: { initContainers: { image: string }[]; containers: { image: string }[] } } };
    };
  };
};

describe('registry step against the lab apiserver', () => {
  const name = uniqueCluster('reg');
  const mirror = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror';
  const roleArn = `arn:aws:iam::123456789012:role/platctl/${name}/eks-ecr-credentials-sync-${name}`;
  const outputs = { iam: { ecrCredentialsSyncRoleArn: roleArn } };
  const withMirror = awsCluster(env, name, { images: { mirror } });
  const kube = () => connectKube({ kubeconfig: env.kubeconfig, context: env.kubeContext });
  beforeAll(async () => {
    // Flux tests (possibly another engineer's run on the shared apiserver) delete flux-system when they finish:
    // wait until it is not terminating, as applying into a terminating namespace is refused.
    const k = await kube();
    for (let i = 0; i < 180; i++) {
      const ns = await k.get({ apiVersion: 'v1', kind: 'Namespace', name: NS });
      if (!ns?.metadata.deletionTimestamp) return;
      await sleep(500);
    }
    throw new Error(`namespace ${NS} still terminating after 90s`);
  });
  afterAll(async () => {
    await registryStep.destroy(awsContext(withMirror, { outputs }).ctx);
  });

  it('applies the CronJob, ServiceAccount and RBAC server-side, on a 6-hour schedule, with mirrored images', async () => {
    const t = awsContext(withMirror, { outputs });
    expect((await registryStep.check(t.ctx)).status).not.toBe('up-to-date');
    const out = await registryStep.apply(t.ctx);
    expect(out).toEqual({ mirror, ecrCredentialsSyncRoleArn: roleArn });

    const k = await kube();
    const cron = (await k.get<CronJob>(CRONJOB)) as CronJob;
    expect(cron.spec.schedule).toBe('0 */6 * * *');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers.map((c) => c.image)).toEqual([`${mirror}/aws-cli/aws-cli:2.27.0`]);
    expect(pod.containers.map((c) => c.image)).toEqual([`${mirror}/kubectl:v1.34.4`]);
    const managers = (cron.metadata.managedFields as { manager: string; operation: string }[]) ?? [];
    expect(managers).toContainEqual(expect.objectContaining({ manager: 'platctl', operation: 'Apply' }));

    const sa = await k.get(SA);
    expect(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(roleArn);
    const role = (await k.get(ROLE)) as KubeObject & { rules: { resourceNames?: string[]; verbs: string[] }[] };
    expect(role.rules).toContainEqual(
      expect.objectContaining({ resourceNames: ['ecr-credentials'], verbs: ['get', 'patch'] }),
    );
    const binding = (await k.get(BINDING)) as KubeObject & { subjects: unknown[] };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: ECR_SYNC.name, namespace: NS }]);
  });

  it('the cheap check is one kube read and writes nothing; the deep check agrees', async () => {
    const counted = countingKube(await kube());
    const t = awsContext(withMirror, { outputs, deep: false, kube: async () => counted.kube });
    const check = await registryStep.check(t.ctx);
    expect(check.status, check.detail).toBe('up-to-date');
    expect(check.outputs).toEqual({ mirror, ecrCredentialsSyncRoleArn: roleArn });
    expect([counted.reads(), counted.writes()]).toEqual([1, 0]);
    expect((await registryStep.check({ ...t.ctx, deep: true })).status).toBe('up-to-date');
  });

  it('a changed mirror or role is drift, and apply converges it', async () => {
    const plain = awsCluster(env, name);
    const t = awsContext(plain, { outputs, deep: false });
    const check = await registryStep.check(t.ctx);
    expect(check.status).toBe('drift');
    expect(check.detail).toContain('CronJob flux-system/ecr-credentials-sync: manifests changed');
    expect(await registryStep.apply(t.ctx)).toEqual({ ecrCredentialsSyncRoleArn: roleArn });
    const cron = (await (await kube()).get<CronJob>(CRONJOB)) as CronJob;
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe('registry.k8s.io/kubectl:v1.34.4');

    const other = { iam: { ecrCredentialsSyncRoleArn: `${roleArn}-2` } };
    const deep = await registryStep.check(awsContext(plain, { outputs: other }).ctx);
    expect(deep.changes).toContain(
      `~ ServiceAccount ${NS}/${ECR_SYNC.name}: role annotation differs (want ${roleArn}-2)`,
    );
  });

  it("the job's script writes a docker-registry Secret the apiserver accepts, without printing the token", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'platctl-ecr-sync-'));
    try {
      // A fake aws CLI standing in for `aws ecr get-login-password` under IRSA.
      const token = `ecr-token-${Math.random().toString(36).slice(2)}`;
      await writeFile(
        path.join(dir, 'aws'),
        `#!/bin/sh\n[ "$1 $2" = "ecr get-login-password" ] || exit 9\necho ${token}\n`,
      );
      await chmod(path.join(dir, 'aws'), 0o755);
      const registry = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
      const file = path.join(dir, 'secret.json');
      const run = await execa('/bin/sh', ['-c', TOKEN_SCRIPT], {
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          AWS_REGION: 'us-east-1',
          REGISTRY: registry,
          SECRET_NAME: ECR_SYNC.secretName,
          SECRET_NAMESPACE: NS,
          SECRET_FILE: file,
        },
      });
      expect(run.stdout + run.stderr).not.toContain(token);
      const secret = JSON.parse(await readFile(file, 'utf8'));
      const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString());
      expect(Buffer.from(config.auths[registry].auth, 'base64').toString()).toBe(`AWS:${token}`);

      // What the job's kubectl container runs, against the real apiserver.
      const apply = await execa(
        env.bins.kubectl,
        ['apply', '--server-side', '--force-conflicts', '--field-manager=ecr-credentials-sync', '-f', file],
        { env: labProcessEnv(env), reject: false },
      );
      expect(apply.exitCode, apply.stderr).toBe(0);
      const stored = await (await kube()).get(SECRET);
      expect(stored?.type).toBe('kubernetes.io/dockerconfigjson');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a dry run before the cluster is reachable lists what it would apply; a real run fails clearly', async () => {
    const unreachable = async (): Promise<KubeClient> => {
      throw new PlatctlError('KUBE_UNREACHABLE', 'cannot reach the Kubernetes API at https://nowhere');
    };
    const t = awsContext(withMirror, { outputs, kube: unreachable });
    const dry = await registryStep.check({ ...t.ctx, dryRun: true });
    expect(dry.status).toBe('absent');
    expect(dry.changes).toEqual([
      `+ ServiceAccount ${NS}/${ECR_SYNC.name}`,
      `+ Role ${NS}/${ECR_SYNC.name}`,
      `+ RoleBinding ${NS}/${ECR_SYNC.name}`,
      `+ CronJob ${NS}/${ECR_SYNC.name}`,
    ]);
    await expect(registryStep.check(t.ctx)).rejects.toMatchObject({ code: 'KUBE_UNREACHABLE' });
  });

  it('destroy removes the CronJob, ServiceAccount, RBAC and the synced Secret, and tolerates running again', async () => {
    const t = awsContext(withMirror, { outputs });
    await registryStep.destroy(t.ctx);
    const k: KubeClient = await kube();
    for (const r of [CRONJOB, SA, ROLE, BINDING, SECRET]) expect(await k.get(r), r.kind).toBeUndefined();
    await registryStep.destroy(t.ctx);
    expect((await registryStep.check(t.ctx)).status).toBe('absent');
  });
});
