/**
 * platctl's own kubeconfig exec plugin, made in-process. The kubeconfigs platctl writes for EKS say
 * `platctl eks token --cluster <c> --region <r> [--role-arn <arn>]` (src/kubeconfig.ts); kubectl must run that as
 * a process, but platctl itself can make the same token without starting a second Node (about 80 ms before each
 * run's first request, docs/steps/access.md). Anything else, or anything it does not recognise exactly, is run
 * as the plugin it names.
 */
import path from 'node:path';
import { isIsolatedRegion } from '../aws/partition.js';

/** The exec stanza fields this looks at. */
export interface ExecStanza {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
}

/** What `platctl eks token` would be called with. */
export interface OwnEksTokenArgs {
  cluster: string;
  region: string;
  roleArn?: string;
  profile?: string;
}

const FLAGS: Record<string, keyof OwnEksTokenArgs> = {
  '--cluster': 'cluster',
  '--region': 'region',
  '--role-arn': 'roleArn',
};

/**
 * The arguments of a `platctl eks token` exec stanza, or undefined when it is anything else: another command,
 * another flag, a repeated flag, an env entry other than AWS_PROFILE, or a region `eks token` refuses (the
 * child then fails with its own message).
 */
export function ownEksTokenArgs(exec: ExecStanza): OwnEksTokenArgs | undefined {
  if (path.basename(exec.command) !== 'platctl') return undefined;
  const [verb, sub, ...rest] = exec.args ?? [];
  if (verb !== 'eks' || sub !== 'token' || rest.length % 2 !== 0) return undefined;
  const out: Partial<OwnEksTokenArgs> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const key = FLAGS[rest[i] as string];
    const value = rest[i + 1];
    if (!key || out[key] !== undefined || !value || value.startsWith('-')) return undefined;
    out[key] = value;
  }
  for (const e of exec.env ?? []) {
    if (e.name !== 'AWS_PROFILE' || out.profile !== undefined) return undefined;
    out.profile = e.value;
  }
  if (!out.cluster || !out.region || isIsolatedRegion(out.region)) return undefined;
  return out as OwnEksTokenArgs;
}

/** Makes the token `platctl eks token` would print, with when to stop using it. */
export async function ownEksToken(a: OwnEksTokenArgs): Promise<{ token: string; expires: number }> {
  const { createEksToken } = await import('../aws/eks-token.js');
  const t = await createEksToken(a);
  return { token: t.token, expires: t.expiresAt.getTime() };
}
