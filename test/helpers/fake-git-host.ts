/**
 * An in-memory GitHost for the shared logic's unit tests: one repository at most, its keys and hooks, the
 * token's user and admin right, and a log of every write. Behaves like both hosts where it matters: key
 * titles are unique per repository (Gitea refuses a second), ids are never reused.
 */
import { PlatctlError } from '../../src/errors.js';
import type { GitHost, HookSpec, HostHook, HostKey, HostRepo, RepoRef } from '../../src/githost/types.js';

/** The fake's state, open to the test. */
export interface FakeHostState {
  login: string;
  repo?: HostRepo & { ref: RepoRef; branches: string[] };
  keys: HostKey[];
  hooks: (HostHook & { secret: string })[];
  writes: string[];
}

/** A fake host; `state` may be changed by the test at any time. */
export function fakeGitHost(init: Partial<FakeHostState> = {}): GitHost & { state: FakeHostState } {
  const state: FakeHostState = { login: 'ops', keys: [], hooks: [], writes: [], ...init };
  let next = 100;
  const needRepo = (r: RepoRef) => {
    if (!state.repo || state.repo.ref.owner !== r.owner || state.repo.ref.name !== r.name) {
      throw new PlatctlError('GITHOST_API', `no repository ${r.owner}/${r.name}`);
    }
  };
  const needAdmin = (r: RepoRef) => {
    needRepo(r);
    if (!state.repo?.permissions.admin) throw new PlatctlError('GITHOST_PERMISSION', 'not an admin');
  };
  return {
    state,
    provider: 'gitea',
    apiUrl: 'https://fake.example.com/api/v1',
    currentUser: async () => state.login,
    getRepo: async (r) =>
      state.repo && state.repo.ref.owner === r.owner && state.repo.ref.name === r.name
        ? { private: state.repo.private, defaultBranch: state.repo.defaultBranch, permissions: state.repo.permissions }
        : undefined,
    async createRepo(r, o) {
      state.writes.push(`createRepo ${o.personal ? 'personal' : 'org'} ${r.owner}/${r.name} ${o.branch}`);
      state.repo = {
        ref: r,
        private: true,
        defaultBranch: o.branch,
        branches: [o.branch],
        permissions: { admin: true, push: true, pull: true },
      };
      return { private: true, defaultBranch: o.branch, permissions: state.repo.permissions };
    },
    async listDeployKeys(r) {
      needAdmin(r);
      return state.keys.map((k) => ({ ...k }));
    },
    async addDeployKey(r, k) {
      needAdmin(r);
      if (state.keys.some((x) => x.title === k.title)) throw new PlatctlError('GITHOST_API', 'title already used');
      state.writes.push(`addDeployKey ${k.title} ${k.readOnly ? 'ro' : 'rw'}`);
      const key = { id: next++, title: k.title, key: k.key, readOnly: k.readOnly };
      state.keys.push(key);
      return { ...key };
    },
    async deleteDeployKey(r, id) {
      needAdmin(r);
      state.writes.push(`deleteDeployKey ${id}`);
      state.keys = state.keys.filter((k) => k.id !== id);
    },
    async listHooks(r) {
      needAdmin(r);
      return state.hooks.map(({ secret: _s, ...h }) => ({ ...h, events: [...h.events] }));
    },
    async createHook(r, h: HookSpec) {
      needAdmin(r);
      state.writes.push(`createHook ${h.url}`);
      const hook = { id: next++, url: h.url, contentType: h.contentType, events: [...h.events], active: true };
      state.hooks.push({ ...hook, secret: h.secret });
      return hook;
    },
    async deleteHook(r, id) {
      needAdmin(r);
      state.writes.push(`deleteHook ${id}`);
      state.hooks = state.hooks.filter((h) => h.id !== id);
    },
  };
}

/** A repository the token administers. */
export function fakeRepo(ref: RepoRef, admin = true): FakeHostState['repo'] {
  return {
    ref,
    private: true,
    defaultBranch: 'main',
    branches: ['main'],
    permissions: { admin, push: admin, pull: true },
  };
}
