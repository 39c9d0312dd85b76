/**
 * IAM operations for the `iam` step: get-or-create by name, a precise drift report per role (trust policy,
 * inline policy, tags) and deletion that only ever touches what carries this cluster's tag.
 */
import type { IAMClient, Role } from '@aws-sdk/client-iam';
import type { ClusterConfig } from '../config/schema.js';
import { awsCall, explainAwsError, isAwsError } from './errors.js';
import {
  INLINE_POLICY_NAME,
  type IrsaRoleSpec,
  irsaParams,
  irsaRoles,
  issuerHostPath,
  oidcProviderArn,
  roleName,
  rolePath,
  STS_AUDIENCE,
  trustPolicy,
} from './irsa.js';
import { describePolicyDiff, type PolicyDocument } from './policy.js';
import { CLUSTER_TAG, tagList } from './tags.js';

/** One role as the step wants it. */
export interface DesiredRole {
  spec: IrsaRoleSpec;
  name: string;
  path: string;
  trust: PolicyDocument;
  policy: PolicyDocument;
}

/** Everything the `iam` step wants to exist. */
export interface IamPlan {
  cluster: string;
  issuer: string;
  providerArn: string;
  roles: DesiredRole[];
  tags: { Key: string; Value: string }[];
}

/** What was found for one role: its ARN when it exists, and each way it differs. */
export interface RoleStatus {
  role: DesiredRole;
  arn?: string;
  /** Human lines: "trust policy: statement … want …, found …", "inline policy platctl missing", "tags". */
  drift: string[];
}

/** Builds the plan for a cluster and its OIDC issuer. */
export function planIam(cluster: ClusterConfig, issuer: string): IamPlan {
  const p = irsaParams(cluster);
  const providerArn = oidcProviderArn(p, issuer);
  return {
    cluster: cluster.name,
    issuer,
    providerArn,
    tags: tagList(cluster, 'iam'),
    roles: irsaRoles(cluster).map((spec) => ({
      spec,
      name: roleName(spec.service, cluster.name),
      path: rolePath(cluster.name),
      trust: trustPolicy(providerArn, issuer, spec.namespace, spec.serviceAccount),
      policy: spec.policy(p),
    })),
  };
}

const json = (d: PolicyDocument) => JSON.stringify(d);
const missingTags = (want: IamPlan['tags'], have: { Key?: string; Value?: string }[] = []) =>
  want.filter((t) => !have.some((h) => h.Key === t.Key && h.Value === t.Value));

/** Roles under `/platctl/<cluster>/`, trust policies included: the step's one-read check. */
export async function listClusterRoles(iam: IAMClient, cluster: string): Promise<Role[]> {
  const { ListRolesCommand } = await import('./iam.js');
  const roles: Role[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ PathPrefix: rolePath(cluster), Marker }));
    roles.push(...(page.Roles ?? []));
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  return roles;
}

/** Trust-policy drift of a role as read back from IAM (any path); empty when equivalent. */
export function trustDrift(role: DesiredRole, found: string | undefined): string[] {
  return found === undefined
    ? ['trust policy missing']
    : describePolicyDiff(role.trust, found).map((d) => `trust policy: ${d}`);
}

/** Reads one role: GetRole and GetRolePolicy (two reads). */
export async function inspectRole(iam: IAMClient, role: DesiredRole, tags: IamPlan['tags']): Promise<RoleStatus> {
  const { GetRoleCommand, GetRolePolicyCommand } = await import('./iam.js');
  let found: Role | undefined;
  try {
    found = (await iam.send(new GetRoleCommand({ RoleName: role.name }))).Role;
  } catch (err) {
    if (isAwsError(err, 'NoSuchEntity')) return { role, drift: ['missing'] };
    throw err;
  }
  const drift = trustDrift(role, found?.AssumeRolePolicyDocument);
  try {
    const inline = await iam.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: INLINE_POLICY_NAME }));
    drift.push(
      ...describePolicyDiff(role.policy, inline.PolicyDocument ?? '{}').map(
        (d) => `inline policy ${INLINE_POLICY_NAME}: ${d}`,
      ),
    );
  } catch (err) {
    if (!isAwsError(err, 'NoSuchEntity')) throw err;
    drift.push(`inline policy ${INLINE_POLICY_NAME} missing`);
  }
  const untagged = missingTags(tags, found?.Tags);
  if (untagged.length) drift.push(`tags missing: ${untagged.map((t) => t.Key).join(', ')}`);
  return { role, arn: found?.Arn, drift };
}

/** Creates the role or brings it in line; returns its ARN and what was written. */
export async function ensureRole(
  iam: IAMClient,
  role: DesiredRole,
  tags: IamPlan['tags'],
  principal?: string,
): Promise<{ arn: string; wrote: string[] }> {
  const iamSdk = await import('./iam.js');
  const call = <T>(action: string, fn: () => Promise<T>) =>
    awsCall({ action: `iam:${action}`, resource: `role ${role.name}`, principal }, fn);
  const wrote: string[] = [];
  const putPolicy = () =>
    call('PutRolePolicy', () =>
      iam.send(
        new iamSdk.PutRolePolicyCommand({
          RoleName: role.name,
          PolicyName: INLINE_POLICY_NAME,
          PolicyDocument: json(role.policy),
        }),
      ),
    ).then(() => wrote.push(`inline policy ${INLINE_POLICY_NAME}`));

  let status = await call('GetRole', () => inspectRole(iam, role, tags));
  if (!status.arn) {
    try {
      const created = await iam.send(
        new iamSdk.CreateRoleCommand({
          RoleName: role.name,
          Path: role.path,
          AssumeRolePolicyDocument: json(role.trust),
          Description: `platctl: IRSA role for ${role.spec.namespace}/${role.spec.serviceAccount}`,
          Tags: tags,
        }),
      );
      wrote.push('created');
      await putPolicy();
      return { arn: created.Role?.Arn ?? '', wrote };
    } catch (err) {
      // Someone (a concurrent run) created it between our read and our create: adopt it.
      if (!isAwsError(err, 'EntityAlreadyExists'))
        throw explainAwsError(err, { action: 'iam:CreateRole', resource: `role ${role.name}`, principal });
      status = await call('GetRole', () => inspectRole(iam, role, tags));
    }
  }
  if (status.drift.some((d) => d.startsWith('trust policy'))) {
    await call('UpdateAssumeRolePolicy', () =>
      iam.send(new iamSdk.UpdateAssumeRolePolicyCommand({ RoleName: role.name, PolicyDocument: json(role.trust) })),
    );
    wrote.push('trust policy');
  }
  if (status.drift.some((d) => d.startsWith(`inline policy ${INLINE_POLICY_NAME}`))) await putPolicy();
  if (status.drift.some((d) => d.startsWith('tags missing'))) {
    await call('TagRole', () => iam.send(new iamSdk.TagRoleCommand({ RoleName: role.name, Tags: tags })));
    wrote.push('tags');
  }
  return { arn: status.arn ?? '', wrote };
}

/** The OIDC provider: missing, or present with drift ("client id sts.amazonaws.com missing"), and whether it is ours. */
export async function inspectProvider(
  iam: IAMClient,
  plan: IamPlan,
): Promise<{ exists: boolean; ours: boolean; drift: string[] }> {
  const { GetOpenIDConnectProviderCommand } = await import('./iam.js');
  try {
    const p = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: plan.providerArn }));
    const drift = (p.ClientIDList ?? []).includes(STS_AUDIENCE) ? [] : [`client id ${STS_AUDIENCE} missing`];
    const ours = (p.Tags ?? []).some((t) => t.Key === CLUSTER_TAG && t.Value === plan.cluster);
    return { exists: true, ours, drift };
  } catch (err) {
    if (isAwsError(err, 'NoSuchEntity')) return { exists: false, ours: false, drift: ['missing'] };
    throw err;
  }
}

/**
 * Creates the OIDC provider, or adopts an existing one (the EKS Terraform module may have made it: then it is
 * left untagged, so destroy leaves it to its owner). No thumbprint is sent: IAM fetches it, and for EKS issuers
 * trusts AWS's CA library instead.
 */
export async function ensureProvider(iam: IAMClient, plan: IamPlan, principal?: string): Promise<string[]> {
  const sdk = await import('./iam.js');
  const call = <T>(action: string, fn: () => Promise<T>) =>
    awsCall({ action: `iam:${action}`, resource: `OIDC provider ${plan.providerArn}`, principal }, fn);
  const found = await call('GetOpenIDConnectProvider', () => inspectProvider(iam, plan));
  if (!found.exists) {
    await call('CreateOpenIDConnectProvider', () =>
      iam.send(
        new sdk.CreateOpenIDConnectProviderCommand({
          Url: `https://${issuerHostPath(plan.issuer)}`,
          ClientIDList: [STS_AUDIENCE],
          Tags: plan.tags,
        }),
      ),
    );
    return ['created'];
  }
  if (found.drift.length === 0) return [];
  await call('AddClientIDToOpenIDConnectProvider', () =>
    iam.send(
      new sdk.AddClientIDToOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: plan.providerArn,
        ClientID: STS_AUDIENCE,
      }),
    ),
  );
  return [`client id ${STS_AUDIENCE}`];
}

/** Deletes a role platctl made for this cluster: its inline and attached policies, then the role. */
export async function deleteRole(
  iam: IAMClient,
  name: string,
  cluster: string,
  principal?: string,
): Promise<'deleted' | 'gone' | 'not ours'> {
  const sdk = await import('./iam.js');
  const call = <T>(action: string, fn: () => Promise<T>) =>
    awsCall({ action: `iam:${action}`, resource: `role ${name}`, principal }, async () => {
      try {
        return await fn();
      } catch (err) {
        if (isAwsError(err, 'NoSuchEntity')) return undefined;
        throw err;
      }
    });
  const role = (await call('GetRole', () => iam.send(new sdk.GetRoleCommand({ RoleName: name }))))?.Role;
  if (!role) return 'gone';
  if (!(role.Tags ?? []).some((t) => t.Key === CLUSTER_TAG && t.Value === cluster)) return 'not ours';
  const inline = await call('ListRolePolicies', () => iam.send(new sdk.ListRolePoliciesCommand({ RoleName: name })));
  for (const PolicyName of inline?.PolicyNames ?? [])
    await call('DeleteRolePolicy', () => iam.send(new sdk.DeleteRolePolicyCommand({ RoleName: name, PolicyName })));
  const attached = await call('ListAttachedRolePolicies', () =>
    iam.send(new sdk.ListAttachedRolePoliciesCommand({ RoleName: name })),
  );
  for (const p of attached?.AttachedPolicies ?? [])
    await call('DetachRolePolicy', () =>
      iam.send(new sdk.DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn })),
    );
  await call('DeleteRole', () => iam.send(new sdk.DeleteRoleCommand({ RoleName: name })));
  return 'deleted';
}

/** Deletes the OIDC provider when it carries this cluster's tag (an adopted one is left alone). */
export async function deleteProvider(
  iam: IAMClient,
  plan: IamPlan,
  principal?: string,
): Promise<'deleted' | 'gone' | 'not ours'> {
  const sdk = await import('./iam.js');
  const found = await awsCall({ action: 'iam:GetOpenIDConnectProvider', resource: plan.providerArn, principal }, () =>
    inspectProvider(iam, plan),
  );
  if (!found.exists) return 'gone';
  if (!found.ours) return 'not ours';
  await awsCall({ action: 'iam:DeleteOpenIDConnectProvider', resource: plan.providerArn, principal }, async () => {
    try {
      await iam.send(new sdk.DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: plan.providerArn }));
    } catch (err) {
      if (!isAwsError(err, 'NoSuchEntity')) throw err;
    }
  });
  return 'deleted';
}
