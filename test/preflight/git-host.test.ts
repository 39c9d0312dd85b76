/**
 * The git host in bootstrap's preflight: an unset token, a refused token, a token without admin rights and a
 * host that does not answer are each one problem naming its field, reported with every other problem; the host
 * is asked nothing when its steps have no work (a finished cluster's re-run), and nothing at all for `ssh`.
 * State decides whether they have work (gitHostHasWork); the session-first order and its fallback are proven
 * with a real journal and a cluster that cannot be reached.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Exec } from '../../src/clients/exec.js';
import { validateConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { PlatctlError } from '../../src/errors.js';
import { gitHostHasWork } from '../../src/githost/preflight.js';
import { createGitHost } from '../../src/githost/provider.js';
import type { GitHost } from '../../src/githost/types.js';
import { gitHostProblems } from '../../src/preflight/git-host.js';
import { preflight } from '../../src/preflight/preflight.js';
import { withPreflightedSession } from '../../src/preflight/session.js';
import { JournalStore } from '../../src/state/journal.js';
import { emptyState, type State, type StepState } from '../../src/state/types.js';
import { rawCluster, rawPlatform, withField } from '../helpers/config.js';
import { fakeGitHost, fakeRepo } from '../helpers/fake-git-host.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { useTempHome } from '../helpers/temp-home.js';

const dir = mkdtempSync(path.join(tmpdir(), 'platctl-preflight-githost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const repo = { owner: 'acme', name: 'fleet' };
const gitea = (extra: [string[], unknown][] = []): ClusterConfig => {
  let raw = withField(rawCluster('demo'), ['fleet'], {
    url: 'ssh://git@gitea.example.com:2222/acme/fleet.git',
    provider: 'gitea',
    apiUrl: 'https://gitea.example.com',
  });
  for (const [p, v] of extra) raw = withField(raw, p, v);
  return clusterOf(raw);
};
const clusterOf = (raw: ReturnType<typeof rawCluster>): ClusterConfig => {
  const c = validateConfig(rawPlatform(raw), 'platform.yaml').clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
};
const at = (f: string) => `clusters[0].${f}`;
const STEPS = ['flux-secret', 'flux'];

/** A GitHost that counts its calls. */
function counted(host: GitHost): GitHost & { calls: string[] } {
  const calls: string[] = [];
  const wrapped = { ...host, calls } as GitHost & { calls: string[] };
  for (const k of Object.keys(host) as (keyof GitHost)[]) {
    const v = host[k];
    if (typeof v === 'function')
      (wrapped as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
        calls.push(k);
        return (v as (...x: unknown[]) => unknown)(...a);
      };
  }
  return wrapped;
}

describe('gitHostProblems', () => {
  it('an unset token is one problem naming the variable, without asking the host', async () => {
    const c = gitea();
    const problems = await gitHostProblems(c, STEPS, at, { host: () => createGitHost(c, {}), probe: true });
    expect(problems).toEqual([
      {
        field: 'GITEA_TOKEN',
        message: expect.stringMatching(/^fleet\.provider is gitea but GITEA_TOKEN is not set \(export GITEA_TOKEN/),
      },
    ]);
  });

  it('asks nothing when the steps have no work, for ssh, or when no git host step runs', async () => {
    const host = counted(fakeGitHost({ repo: fakeRepo(repo) }));
    expect(await gitHostProblems(gitea(), STEPS, at, { host: async () => host, probe: false })).toEqual([]);
    expect(await gitHostProblems(gitea(), ['cluster', 'istio'], at, { host: async () => host, probe: true })).toEqual(
      [],
    );
    const ssh = clusterOf(rawCluster('demo'));
    const none = async () => {
      throw new Error('ssh needs no git host');
    };
    expect(await gitHostProblems(ssh, STEPS, at, { host: none, probe: true })).toEqual([]);
    expect(host.calls).toEqual([]);
  });

  it('with work: an admin passes (one line said), a missing repository will be created', async () => {
    const log = memoryLogger();
    const admin = counted(fakeGitHost({ login: 'ops', repo: fakeRepo(repo) }));
    expect(await gitHostProblems(gitea(), STEPS, at, { host: async () => admin, probe: true, log })).toEqual([]);
    expect(admin.calls).toEqual(['currentUser', 'getRepo']);
    const empty = fakeGitHost({ login: 'ops' });
    expect(await gitHostProblems(gitea(), ['flux-secret'], at, { host: async () => empty, probe: true, log })).toEqual(
      [],
    );
    expect(log.lines).toEqual([
      expect.stringContaining("GITEA_TOKEN is ops's, an admin of acme/fleet"),
      expect.stringContaining('acme/fleet does not exist yet and will be created'),
    ]);
    expect(empty.state.writes).toEqual([]);
  });

  it('a token without admin rights, a refused token and a silent host each name their field', async () => {
    const reader = fakeGitHost({ login: 'reader', repo: fakeRepo(repo, false) });
    const [perm] = await gitHostProblems(
      gitea([[['flux', 'webhook'], { url: 'https://hooks.example.com' }]]),
      STEPS,
      at,
      {
        host: async () => reader,
        probe: true,
      },
    );
    expect(perm?.field).toBe('clusters[0].fleet.url');
    expect(perm?.message).toMatch(
      /^GITEA_TOKEN \(user reader\) lacks admin rights on acme\/fleet: platctl needs them to manage its deploy key and webhook/,
    );
    const refusing = fakeGitHost();
    refusing.currentUser = async () => {
      throw new PlatctlError('GITHOST_TOKEN', 'the git host refused GITEA_TOKEN (401)');
    };
    expect(await gitHostProblems(gitea(), STEPS, at, { host: async () => refusing, probe: true })).toEqual([
      { field: 'GITEA_TOKEN', message: 'the git host refused GITEA_TOKEN (401)' },
    ]);
    const silent = fakeGitHost();
    silent.currentUser = async () => {
      throw new PlatctlError('TIMEOUT', 'Gitea: read the token’s user: no answer from gitea.example.com within 30 s');
    };
    const [t] = await gitHostProblems(gitea(), STEPS, at, { host: async () => silent, probe: true });
    expect(t?.field).toBe('clusters[0].fleet.apiUrl');
  });

  it('is reported with the other problems, at once', async () => {
    const exec: Exec = {
      async run(file) {
        throw new PlatctlError('TOOL_MISSING', `${file} is not installed or not on PATH`);
      },
    };
    const c = gitea([[['flux', 'manifests'], path.join(dir, 'missing.yaml')]]);
    const problems = await preflight({
      cluster: c,
      index: 0,
      steps: STEPS,
      exec,
      aws: {} as never,
      gitHost: { host: () => createGitHost(c, {}), probe: true },
    });
    expect(problems.map((p) => p.field)).toEqual(['clusters[0].flux.manifests', 'PATH', 'PATH', 'PATH', 'GITEA_TOKEN']);
  });
});

describe('gitHostHasWork', () => {
  const done = (ids: string[], provider = 'gitea'): Pick<State, 'steps'> => ({
    steps: Object.fromEntries(
      ids.map((id): [string, StepState] => [id, { status: 'done', outputs: id === 'flux-secret' ? { provider } : {} }]),
    ),
  });
  const ask = (state: Pick<State, 'steps'>, o: { steps?: string[]; verify?: boolean } = {}) =>
    gitHostHasWork({
      steps: o.steps ?? ['cluster', ...STEPS],
      state,
      provider: 'gitea',
      recordedProvider: state.steps['flux-secret']?.outputs.provider as string | undefined,
      verify: o.verify,
    });

  it('is false for a finished cluster, true while a git host step is not done, after a provider change, or with --verify', () => {
    expect(ask(done(STEPS))).toBe(false);
    expect(ask(done(['flux-secret']))).toBe(true);
    expect(ask({ steps: {} })).toBe(true);
    expect(ask(done(STEPS, 'ssh'))).toBe(true);
    expect(ask(done(STEPS), { verify: true })).toBe(true);
    expect(ask({ steps: {} }, { steps: ['cluster', 'istio'] })).toBe(false);
  });
});

describe('withPreflightedSession', () => {
  useTempHome();
  const exec: Exec = { run: async () => ({ stdout: 'git version 2.39.5 OpenSSH_9.2p1', stderr: '', exitCode: 0 }) };
  const opts = (c: ClusterConfig, host: () => Promise<GitHost | undefined>) => ({
    source: 'platform.yaml',
    cluster: c,
    index: 0,
    steps: STEPS,
    exec,
    aws: {} as never,
    gitHost: {
      host,
      hasWork: (s: State) => gitHostHasWork({ steps: STEPS, state: s, provider: 'gitea', recordedProvider: 'gitea' }),
    },
  });
  const session = (kube: () => Promise<never>) => ({
    cluster: 'demo',
    log: memoryLogger(),
    command: 'bootstrap',
    kube,
    lock: true,
  });
  const unreachable = async (): Promise<never> => {
    throw new PlatctlError('KUBE_UNREACHABLE', 'cannot reach https://demo.example.com');
  };

  it('asks the host only when the state it read says the git host steps have work', async () => {
    const host = counted(fakeGitHost({ repo: fakeRepo(repo) }));
    const c = gitea();
    const ran: string[] = [];
    const journal = new JournalStore('demo');
    const finished = emptyState('demo');
    for (const id of STEPS) finished.steps[id] = { status: 'done', outputs: {} };
    await journal.write(finished);
    await withPreflightedSession(
      session(unreachable),
      opts(c, async () => host),
      async () => ran.push('finished'),
    );
    expect(host.calls).toEqual([]);
    await journal.write(emptyState('demo'));
    await withPreflightedSession(
      session(unreachable),
      opts(c, async () => host),
      async () => ran.push('fresh'),
    );
    expect(host.calls).toEqual(['currentUser', 'getRepo']);
    expect(ran).toEqual(['finished', 'fresh']);
  });

  it('when the state’s cluster cannot be reached: preflight’s problems if it has any, else that error', async () => {
    const journal = new JournalStore('demo');
    await journal.write({ ...emptyState('demo'), location: 'cluster' });
    const c = gitea();
    const noToken = await platctlFailure(
      withPreflightedSession(
        session(unreachable),
        opts(c, () => createGitHost(c, {})),
        async () => 0,
      ),
    );
    expect(noToken.code).toBe('PREFLIGHT_FAILED');
    expect(noToken.message).toContain('GITEA_TOKEN: fleet.provider is gitea but GITEA_TOKEN is not set');
    const host = counted(fakeGitHost({ repo: fakeRepo(repo) }));
    const kubeErr = await platctlFailure(
      withPreflightedSession(
        session(unreachable),
        opts(c, async () => host),
        async () => 0,
      ),
    );
    expect(kubeErr.code).toBe('KUBE_UNREACHABLE');
    expect(host.calls).toEqual([]);
  });

  it('checks files, keys, tools and credentials while the session opens, not after', async () => {
    const journal = new JournalStore('demo');
    await journal.write({ ...emptyState('demo'), location: 'cluster' });
    let probed!: () => void;
    const probing = new Promise<void>((r) => {
      probed = r;
    });
    const probe: Exec = {
      run: async (...a) => {
        probed();
        return exec.run(...a);
      },
    };
    // The state's cluster answers only once a tool has been probed: run one after the other, this would hang.
    const kube = async (): Promise<never> => {
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('preflight waited for the session')), 5000).unref(),
      );
      await Promise.race([probing, timeout]);
      return unreachable();
    };
    const err = await platctlFailure(
      withPreflightedSession(session(kube), { ...opts(gitea(), async () => undefined), exec: probe }, async () => 0),
    );
    expect(err.code).toBe('KUBE_UNREACHABLE');
  });
});
