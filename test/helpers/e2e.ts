/**
 * Shared by the end-to-end suites: the REAL demo pipeline (`bin/platctl bootstrap demo` on
 * examples/lab/platform.yaml, the built CLI) against the lab, with a fresh PLATCTL_HOME per test file, plus
 * read-only views of what it left in the apiserver and in moto. The lab's apiserver holds ONE state
 * ConfigMap, so callers never run two pipelines at once (except the lock test, which wants exactly that).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoConfig, platctl, prepareLab } from '../../scripts/demo-lib.js';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { removeClusterState } from '../../src/runner/session.js';
import type { State } from '../../src/state/types.js';
import type { LabEnv } from '../lab/env.js';
import { ensureBuiltCli } from './built-cli.js';

/** One suite's demo: the lab, the env every platctl child gets, and its own PLATCTL_HOME. */
export interface Demo {
  lab: LabEnv;
  env: NodeJS.ProcessEnv;
  home: string;
  kube: KubeClient;
}

/** The result of one platctl child. */
export interface CliResult {
  exitCode?: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

const quiet = () => undefined;
const stateRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'platctl-system', name: 'platctl-state' };

/** Prepares the lab for the demo with a fresh PLATCTL_HOME, and cleans away any earlier demo. */
export async function setupDemo(label: string, extraEnv: Record<string, string> = {}): Promise<Demo> {
  ensureBuiltCli();
  const home = path.join(mkdtempSync(path.join(os.tmpdir(), `platctl-e2e-${label}-`)), 'home');
  // prepareLab reads PLATCTL_HOME to decide whether OpenBao must be reset: it must see this suite's home.
  process.env.PLATCTL_HOME = home;
  const { lab, env } = await prepareLab(quiet, quiet);
  const demo: Demo = {
    lab,
    env: { ...env, ...extraEnv, PLATCTL_HOME: home, CI: 'true', NO_COLOR: '1' },
    home,
    kube: await connectKube({ kubeconfig: lab.kubeconfig }),
  };
  await cleanDemo(demo);
  return demo;
}

/** The platctl children still running (a test that timed out or failed leaves them behind). */
const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();

/** Runs `bin/platctl <args>` (the built CLI) with the demo's env plus `extra`; never rejects. */
export async function cli(demo: Demo, args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const child = platctl(args, { ...demo.env, ...extra }, 'pipe');
  running.add(child);
  try {
    const r = await child;
    return { exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  } finally {
    running.delete(child);
  }
}

/**
 * Kills every platctl child a test left running (call in afterEach): a timed-out test's bootstrap would
 * otherwise go on holding the run lock, and the next test would fail on that instead of its own cause.
 */
export async function stopStrayRuns(): Promise<void> {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  // Let their awaits settle so the next test starts with none running.
  await new Promise((r) => setTimeout(r, left.length > 0 ? 500 : 0));
}

/** `platctl bootstrap demo --config examples/lab/platform.yaml --yes [...more]`. */
export function bootstrap(demo: Demo, more: string[] = [], extra: Record<string, string> = {}): Promise<CliResult> {
  return cli(demo, ['bootstrap', 'demo', '--config', demoConfig, '--yes', ...more], extra);
}

/** `platctl teardown demo --config examples/lab/platform.yaml --yes [...more]`. */
export function teardown(demo: Demo, more: string[] = [], extra: Record<string, string> = {}): Promise<CliResult> {
  return cli(demo, ['teardown', 'demo', '--config', demoConfig, '--yes', ...more], extra);
}

/** The state document in the apiserver (undefined when there is none). */
export async function readClusterState(kube: KubeClient): Promise<State | undefined> {
  const cm = await kube.get<KubeObject & { data?: Record<string, string> }>(stateRef);
  return cm?.data?.['state.json'] ? JSON.parse(cm.data['state.json']) : undefined;
}

/** The raw state ConfigMap text (for the secrets audit). */
export async function readStateConfigMapText(kube: KubeClient): Promise<string> {
  return JSON.stringify((await kube.get(stateRef)) ?? {});
}

/**
 * Leaves the lab without a demo: tears an existing one down with this home (state lives in the cluster),
 * and if that cannot finish, removes platctl-system so the next pipeline starts from an empty state.
 */
export async function cleanDemo(demo: Demo): Promise<void> {
  if (await readClusterState(demo.kube)) {
    const down = await teardown(demo);
    if (down.exitCode !== 0) process.stderr.write(`e2e: teardown of an earlier demo failed:\n${down.stderr}\n`);
  }
  // Waits until platctl-system is gone, so the next run starts clean.
  await removeClusterState(demo.kube);
}

/** What the demo left in moto: OIDC providers for an issuer, roles under /platctl/demo/, KMS keys by state. */
export interface AwsInventory {
  providers: string[];
  roles: string[];
  /** Key ids tagged platctl.io/cluster=demo, by KeyState (Enabled, PendingDeletion, …). */
  keysByState: Record<string, string[]>;
  /** alias name → target key id, for aliases under alias/platctl/demo/. */
  aliases: Record<string, string | undefined>;
}

/** Reads moto directly with the AWS SDK (the lab's credentials, not the test's distinctive secret). */
export async function awsInventory(lab: LabEnv, issuer: string): Promise<AwsInventory> {
  const { IAMClient, ListOpenIDConnectProvidersCommand, ListRolesCommand } = await import('@aws-sdk/client-iam');
  const { KMSClient, ListKeysCommand, DescribeKeyCommand, ListResourceTagsCommand, ListAliasesCommand } = await import(
    '@aws-sdk/client-kms'
  );
  const common = {
    region: lab.region,
    endpoint: lab.awsEndpoint,
    credentials: { accessKeyId: lab.accessKeyId, secretAccessKey: lab.secretAccessKey },
  };
  const iam = new IAMClient(common);
  const kms = new KMSClient(common);
  const host = issuer.replace(/^https:\/\//, '');
  const providers = ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [])
    .map((p) => p.Arn ?? '')
    .filter((arn) => arn.endsWith(`:oidc-provider/${host}`));
  const roles: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ PathPrefix: '/platctl/demo/', Marker: marker }));
    roles.push(...(page.Roles ?? []).map((r) => r.RoleName ?? ''));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  const keysByState: Record<string, string[]> = {};
  for (const k of (await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys ?? []) {
    const tags = (await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }))).Tags ?? [];
    if (!tags.some((t) => t.TagKey === 'platctl.io/cluster' && t.TagValue === 'demo')) continue;
    const state = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata?.KeyState ?? 'unknown';
    keysByState[state] = [...(keysByState[state] ?? []), k.KeyId ?? ''];
  }
  const aliases: Record<string, string | undefined> = {};
  for (const a of (await kms.send(new ListAliasesCommand({ Limit: 1000 }))).Aliases ?? []) {
    if (a.AliasName?.startsWith('alias/platctl/demo/')) aliases[a.AliasName] = a.TargetKeyId;
  }
  return { providers, roles, keysByState, aliases };
}
