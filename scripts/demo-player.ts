/**
 * What the demo still has to play, said loudly, used by `npm run demo` and the bench: the admin of the tenants'
 * git server. The demo's fleet repo is on the lab's Gitea, where platctl registers Flux's read-only deploy key
 * through the API itself; the tenants' repositories are folders of the lab's sshd git server, which has no API
 * and no admin, so test/lab/git-host-admin.ts adds each deploy key platctl stores there READ-ONLY (as a person
 * would on GitHub: Settings → Deploy keys, "Allow write access" unticked). Flux itself is real: the lab runs its
 * controllers (test/lab/flux-host.ts), which clone with those keys and apply.
 */
import { connectKube } from '../src/clients/kube.js';
import { playGitHostAdmin } from '../test/lab/git-host-admin.js';
import type { LabEnv } from '../test/lab/lab.js';

/** Starts playing; returns a function that stops. */
export async function startPlayer(env: LabEnv, say: (msg: string) => void): Promise<() => void> {
  const kube = await connectKube({ kubeconfig: env.kubeconfig });
  return playGitHostAdmin(kube, (m) => say(`demo ${m}`));
}
