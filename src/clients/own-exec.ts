/**
 * platctl's own kubeconfig exec plugin, made in-process. The kubeconfigs platctl writes for EKS say
 * `platctl eks token --cluster <c> --region <r> [--role-arn <arn>]` (src/kubeconfig.ts); kubectl must run that as
 * a process, but platctl itself can make the same token without starting a second Node (about 80 ms before each
 * run's first request, docs/steps/access.md). Anything else, or anything it does not recognise exactly, is run
 * as the plugin it names.
 */
import path from 'node:path';
import { isIsolatedRegion } from '../aws/partition.js';
import { PlatctlError } from '../errors.js';

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
 * another flag, a repeated flag, an env entry other than AWS_PROFILE, an AWS_PROFILE other than this process's,
 * or a region `eks token` refuses (the child then fails with its own message).
 */
export function ownEksTokenArgs(exec: ExecStanza, env: NodeJS.ProcessEnv = process.env): OwnEksTokenArgs | undefined {
  if (path.basename(exec.command) !== 'platctl') return undefined;
  const [verb, sub, ...rest] = exec.args ?? [];
  if (verb !== 'eks' || sub !== 'token' || rest.length % 2 !== 0) return undefined;
  const out: Partial<OwnEksTokenArgs> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i] as string;
    const key = Object.hasOwn(FLAGS, flag) ? FLAGS[flag] : undefined;
    const value = rest[i + 1];
    if (!key || out[key] !== undefined || !value || value.startsWith('-')) return undefined;
    out[key] = value;
  }
  for (const e of exec.env ?? []) {
    if (e.name !== 'AWS_PROFILE' || !e.value || out.profile !== undefined) return undefined;
    out.profile = e.value;
  }
  // The child got the profile as AWS_PROFILE; in-process it can only be a client option, and the SDK reads some
  // profile settings (endpoint_url) from AWS_PROFILE alone. So in-process only when the two agree.
  if (out.profile !== undefined && out.profile !== env.AWS_PROFILE) return undefined;
  if (!out.cluster || !out.region || isIsolatedRegion(out.region)) return undefined;
  return out as OwnEksTokenArgs;
}

/** How long the token may take: what the child plugin was given (a credential_process can wait forever). */
export const OWN_TOKEN_TIMEOUT_MS = 60_000;

/** Makes the token `platctl eks token` would print, with when to stop using it. */
export async function ownEksToken(
  a: OwnEksTokenArgs,
  timeoutMs = OWN_TOKEN_TIMEOUT_MS,
): Promise<{ token: string; expires: number }> {
  const { createEksToken } = await import('../aws/eks-token.js');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PlatctlError(
            'KUBE_UNREACHABLE',
            `no EKS token for cluster ${a.cluster} after ${Math.round(timeoutMs / 1000)}s (AWS credentials)`,
            { hint: 'check the AWS credentials the kubeconfig user names: `platctl doctor`' },
          ),
        ),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    const t = await Promise.race([createEksToken(a), late]);
    return { token: t.token, expires: t.expiresAt.getTime() };
  } finally {
    clearTimeout(timer);
  }
}
