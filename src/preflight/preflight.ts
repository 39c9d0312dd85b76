/**
 * Bootstrap's preflight: everything that can be checked before step 1 (also with --dry-run), reported all at
 * once. The files platform.yaml names, the Vault PGP keys, the external tools the selected steps run, the AWS
 * credentials' account, and the git host token (set; accepted and an admin of the fleet repo while the git
 * host's steps have work). Each problem names its field; any problem exits 2 before a
 * single cloud or cluster object exists. The checks run in parallel and each is bounded, so a clean preflight
 * costs well under a second (one STS call, a few `--version` runs).
 */
import { assertAccount } from '../aws/account.js';
import type { AwsClients } from '../clients/aws.js';
import type { Exec } from '../clients/exec.js';
import type { ClusterConfig } from '../config/schema.js';
import { describeError, isPlatctlError } from '../errors.js';
import { probeTool, type ToolProbe, type ToolSpec, toolSpecs } from '../tools/versions.js';
import { fileProblems } from './files.js';
import { type GitHostCheck, gitHostProblems } from './git-host.js';
import { type PreflightMemo, toolIdentity } from './memo.js';
import { type PreflightProblem, preflightError } from './problems.js';
import { vaultKeyProblems } from './vault-keys.js';

/** What preflight needs. */
export interface PreflightOptions {
  cluster: ClusterConfig;
  /** The cluster's index in platform.yaml, for field paths (`clusters[0].vault.pgpKeys[1]`). */
  index: number;
  /** The ids of the steps this run will run (tools and keys are checked only for those). */
  steps: readonly string[];
  exec: Exec;
  aws: AwsClients;
  /** The --kubeconfig / --context flags, which replace the config's. */
  kubeFlags?: { kubeconfig?: string; context?: string };
  /** The git host (fleet.provider gitea/github) and whether to ask it; left out, the host is not checked. */
  gitHost?: GitHostCheck;
  /** When keys must be valid (tests). */
  now?: Date;
  /** What earlier runs proved about these tools and keys (bootstrap keeps it in platctl's home); saved only by a
   * preflight that found no problem. */
  memo?: PreflightMemo;
}

/** The steps that call AWS (access only in `eks` mode): the credentials are checked when one of them will run. */
const AWS_STEPS = ['cluster', 'access-entries', 'iam', 'kms', 'network', 'registry'];

/** Every problem found, in a stable order: files, keys, tools, credentials, git host. */
export async function preflight(o: PreflightOptions): Promise<PreflightProblem[]> {
  const [local, gitHost] = await Promise.all([preflightLocal(o), preflightGitHost(o)]);
  const problems = [...local, ...gitHost];
  // Only a clean preflight writes what it learnt: a refused run leaves platctl's home as it found it.
  if (problems.length === 0) await o.memo?.save();
  return problems;
}

/**
 * The checks that need no state (files, keys, tools, credentials), in that order: bootstrap starts them before
 * its session opens, so they overlap the session's requests.
 */
export async function preflightLocal(o: Omit<PreflightOptions, 'gitHost'>): Promise<PreflightProblem[]> {
  const at = (field: string) => `clusters[${o.index}].${field}`;
  const wants = (id: string) => o.steps.includes(id);
  const tools = toolSpecs(o.cluster).filter((t) => t.steps.some(wants));
  const [files, keys, probes, account] = await Promise.all([
    fileProblems(o.cluster, at, o.kubeFlags),
    wants('vault-init') ? vaultKeyProblems(o.cluster, at, o.now, o.memo) : Promise.resolve([]),
    Promise.all(tools.map((t) => probeRemembered(o, t))),
    usesAws(o) ? accountProblem(o, at) : Promise.resolve([]),
  ]);
  const toolProblems = probes
    .filter((p) => !p.ok)
    .map((p) => ({
      field: 'PATH',
      message: `${p.name}: ${p.detail} (needed by ${tools
        .find((t) => t.name === p.name)
        ?.steps.filter(wants)
        .join(', ')})`,
    }));
  return [...files, ...keys, ...toolProblems, ...account];
}

/** The git host's problems (asked only as `gitHost.probe` says: state decides). */
export function preflightGitHost(o: PreflightOptions): Promise<PreflightProblem[]> {
  return gitHostProblems(o.cluster, o.steps, (field) => `clusters[${o.index}].${field}`, o.gitHost);
}

/** A tool's probe, skipped when the memo knows this very binary passed (with the same minimum version). */
async function probeRemembered(o: Pick<PreflightOptions, 'exec' | 'memo'>, t: ToolSpec): Promise<ToolProbe> {
  const identity = o.memo && toolIdentity(t.candidates);
  const key = `${t.name}@${t.min?.join('.') ?? ''}`;
  const known = identity ? o.memo?.tool(key, identity) : undefined;
  if (known) return { name: t.name, ok: true, detail: known };
  const probe = await probeTool(o.exec, t, 5_000);
  if (probe.ok && identity) o.memo?.rememberTool(key, identity, probe.detail);
  return probe;
}

const usesAws = (o: Omit<PreflightOptions, 'gitHost'>) =>
  o.steps.some((s) => AWS_STEPS.includes(s) || (s === 'access' && o.cluster.kubernetes.access === 'eks'));

/** The credentials work and are for aws.accountId. */
async function accountProblem(
  o: Omit<PreflightOptions, 'gitHost'>,
  at: (f: string) => string,
): Promise<PreflightProblem[]> {
  try {
    await assertAccount(o.aws, o.cluster);
    return [];
  } catch (err) {
    if (!isPlatctlError(err)) throw err;
    if (err.code === 'AWS_ACCOUNT_MISMATCH') return [{ field: at('aws.accountId'), message: err.message }];
    const field = o.cluster.aws.profile ? at('aws.profile') : 'AWS credentials';
    return [{ field, message: `${describeError(err)}${err.hint ? ` (${err.hint})` : ''}` }];
  }
}

/** Runs preflight; throws PREFLIGHT_FAILED (exit 2) listing every problem. */
export async function assertPreflight(o: PreflightOptions, source: string): Promise<void> {
  const problems = await preflight(o);
  if (problems.length > 0) throw preflightError(problems, source);
}
