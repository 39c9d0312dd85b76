/**
 * The proof of the cluster variables with the REAL kustomize-controller: the runner drives the real `iam`
 * (moto), `vars` and `flux` steps; a manifest in the fleet repo says `${cert_manager_iam_role_arn}` (and the
 * namespace and ServiceAccount the role trusts); the ServiceAccount Flux applies carries the role's ARN. Then
 * the role is recreated with a new ARN and the next run's `vars` step reports the change; Flux applies the
 * new ARN at the reconcile it asks for.
 *
 * How the ARN changes, as it does in a real account: the role first exists at IAM path `/` (made before
 * platctl, by the seed scripts; the iam step adopts a role of its name wherever it is). The operator retires
 * that role; the next run creates it under platctl's own path, `/platctl/<cluster>/`: same name, new ARN.
 * helm-controller is held: the adopted releases were never installed here.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAwsError } from '../../src/aws/errors.js';
import { createAwsClients } from '../../src/clients/aws.js';
import type { KubeObject } from '../../src/clients/kube.js';
import { deleteAndWait } from '../../src/clients/namespaces.js';
import { baseOf } from '../../src/runner/context.js';
import { runBootstrap, runTeardown } from '../../src/runner/pipeline.js';
import type { RunReport } from '../../src/runner/report.js';
import { StateSession } from '../../src/runner/session.js';
import { createFluxStep } from '../../steps/flux.js';
import { iamStep } from '../../steps/iam.js';
import { PLATFORM_VARS_REF, varsStep } from '../../steps/vars.js';
import { useLabAws } from '../helpers/aws-context.js';
import {
  fluxContext,
  fluxLabSession,
  labCluster,
  labKube,
  pushAsOperator,
  seedDeployKey,
  uniqueName,
} from '../helpers/flux-context.js';
import { lab } from '../lab/env.js';
import { holdFluxControllers, releaseFluxControllers } from '../lab/flux-host.js';
import { revokeKey } from '../lab/git-ssh.js';

const env = lab();
useLabAws(env);
const kube = await labKube(env);
const name = uniqueName('vars');
const cluster = labCluster(env, name);
const issuer = `https://oidc.eks.us-east-1.amazonaws.com/id/${name.replace(/-/g, '').toUpperCase()}`;
const steps = [iamStep, varsStep, createFluxStep({ pollMs: 200 })];
const session = fluxLabSession(env, 'platctl-vars-');
const role = `eks-cert-manager-${name}`;
const SEED_ARN = `arn:aws:iam::123456789012:role/${role}`;
const PLATCTL_ARN = `arn:aws:iam::123456789012:role/platctl/${name}/${role}`;
const SA = { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'cert-manager', name: 'cert-manager' };
const NS = { apiVersion: 'v1', kind: 'Namespace', name: 'cert-manager' };
let iam: IAMClient;
let deployKey = '';

/** A manifest a team writes once for every cluster: nothing in it names this cluster, account or role. */
const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: "\${cert_manager_namespace}"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: "\${cert_manager_service_account}"
  namespace: "\${cert_manager_namespace}"
  annotations:
    eks.amazonaws.com/role-arn: "\${cert_manager_iam_role_arn}"
    example.com/escaped: "$\${not_a_variable}"
`;

/** One bootstrap of the three steps through the runner, with state in this file's journal. */
async function bootstrap(): Promise<RunReport> {
  const { session: s } = await StateSession.open({
    cluster: name,
    log: fluxContext(cluster, { kube }).log,
    command: 'bootstrap',
    kube: async () => kube,
    lock: false,
  });
  try {
    // The cluster step's output the iam step needs: the cluster's OIDC issuer.
    await s.update((st) => {
      st.steps.cluster = { status: 'done', outputs: { oidcIssuer: issuer } };
    });
    const { report } = await runBootstrap({
      steps,
      base: baseOf(fluxContext(cluster, { kube }).ctx),
      session: s,
      tty: false,
    });
    return report;
  } finally {
    await s.close();
  }
}

/** Waits until Flux has applied the ServiceAccount with `arn`; fails showing what is there. */
async function appliedArn(arn: string, ms = 90_000): Promise<KubeObject> {
  const deadline = Date.now() + ms;
  for (;;) {
    const sa = await kube.get(SA);
    if (sa?.metadata.annotations?.['eks.amazonaws.com/role-arn'] === arn) return sa;
    if (Date.now() > deadline)
      throw new Error(`ServiceAccount cert-manager/cert-manager: ${JSON.stringify(sa?.metadata)}`);
    await sleep(500);
  }
}

const report = (r: RunReport, id: string) => r.steps.find((s) => s.id === id);

beforeAll(async () => {
  await session.enter(kube);
  await holdFluxControllers(['helm-controller']);
  deployKey = await seedDeployKey(env, kube, cluster);
  iam = await createAwsClients({ region: env.region }).iam();
  // The seed scripts' role: the same name, at the root path, tagged for the cluster.
  await iam.send(
    new CreateRoleCommand({
      RoleName: role,
      Path: '/',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      Tags: [{ Key: 'platctl.io/cluster', Value: name }],
    }),
  );
  await pushAsOperator(env, { [`clusters/${name}/apps/cert-manager-sa.yaml`]: MANIFEST }, `${name}: IRSA account`);
});

afterAll(async () => {
  try {
    const { session: s } = await StateSession.open({
      cluster: name,
      log: fluxContext(cluster, { kube }).log,
      command: 'teardown',
      kube: async () => kube,
      lock: false,
    });
    const { report: down } = await runTeardown({
      steps,
      base: baseOf(fluxContext(cluster, { kube }).ctx),
      session: s,
      tty: false,
    });
    await s.close();
    expect(down.ok, JSON.stringify(down.error)).toBe(true);
    await deleteRole(role);
    await deleteAndWait(kube, NS);
    if (deployKey) await revokeKey(deployKey);
  } finally {
    await releaseFluxControllers();
    await session.leave();
  }
});

async function deleteRole(roleName: string): Promise<void> {
  try {
    const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    for (const PolicyName of policies.PolicyNames ?? [])
      await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName }));
    await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
  } catch (err) {
    if (!isAwsError(err, 'NoSuchEntity')) throw err;
  }
}

describe('cluster variables through the real kustomize-controller', () => {
  it("a manifest's ${cert_manager_iam_role_arn} is applied as the role the iam step recorded", async () => {
    const r = await bootstrap();
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(report(r, 'iam')?.outputs?.certManagerRoleArn).toBe(SEED_ARN);
    expect(report(r, 'vars')?.result).toBe('applied');
    const cm = await kube.get<KubeObject & { data?: Record<string, string> }>(PLATFORM_VARS_REF);
    expect(cm?.data?.cert_manager_iam_role_arn).toBe(SEED_ARN);
    const sa = await appliedArn(SEED_ARN);
    // An escaped ${…} in the team's manifest reaches the cluster as written.
    expect(sa.metadata.annotations?.['example.com/escaped']).toBe('${not_a_variable}');
    // And the root Kustomization substitutes from the ConfigMap.
    const ks = await kube.get<KubeObject & { spec: { postBuild?: unknown } }>({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      namespace: 'flux-system',
      name: 'flux-system',
    });
    expect(ks?.spec.postBuild).toEqual({
      substituteFrom: [{ kind: 'ConfigMap', name: 'platform-vars', optional: false }],
    });
  });

  it('a re-run with nothing changed leaves the variables up to date', async () => {
    const r = await bootstrap();
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(report(r, 'vars')?.result).toBe('up-to-date');
  });

  it('after the iam step recreates the role with a new ARN, the next run reports it and Flux follows', async () => {
    // The operator retires the seed scripts' role; the next run makes it under platctl's path.
    await deleteRole(role);
    const r = await bootstrap();
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(report(r, 'iam')?.result).toBe('applied');
    expect(report(r, 'iam')?.outputs?.certManagerRoleArn).toBe(PLATCTL_ARN);
    expect(report(r, 'vars')).toMatchObject({
      result: 'applied',
      detail: `ConfigMap flux-system/platform-vars: ~ cert_manager_iam_role_arn: ${SEED_ARN} → ${PLATCTL_ARN}`,
    });
    expect(report(r, 'flux')?.result).toBe('up-to-date');
    await appliedArn(PLATCTL_ARN);
  });
});
