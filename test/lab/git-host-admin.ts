/**
 * PLAYED: the git host's admin. On a real git host a person adds each deploy key platctl prints (Settings →
 * Deploy keys, "allow write access" off); the lab's sshd has no such person, so this adds them: the Flux deploy
 * key (Secret flux-system/flux-system) and every tenant's (Secrets labelled `platctl.io/deploy-key`), each
 * READ-ONLY, the moment platctl has stored it. Until the git-host issue puts a real Gitea in the lab, the demo,
 * the bench and the tests that need Flux to read the fleet repo use it, and say so.
 */
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { DEPLOY_KEY_LABEL } from '../../src/tenants/keys.js';
import { authorizeKeys } from './git-ssh.js';

type Secret = KubeObject & { data?: Record<string, string> };

const publicKeyOf = (s: Secret | undefined) => {
  const b64 = s?.data?.['identity.pub'];
  return b64 ? Buffer.from(b64, 'base64').toString('utf8').trim() : undefined;
};

/** The public deploy keys platctl has stored in the cluster: Flux's own and the tenants'. */
export async function storedDeployKeys(kube: KubeClient): Promise<{ secret: string; publicKey: string }[]> {
  const [flux, tenants] = await Promise.all([
    kube.get<Secret>({ apiVersion: 'v1', kind: 'Secret', namespace: 'flux-system', name: 'flux-system' }),
    kube.list<Secret>('v1', 'Secret', { labelSelector: DEPLOY_KEY_LABEL }),
  ]);
  return [...(flux ? [flux] : []), ...tenants].flatMap((s) => {
    const publicKey = publicKeyOf(s);
    return publicKey ? [{ secret: `${s.metadata.namespace}/${s.metadata.name}`, publicKey }] : [];
  });
}

/**
 * Plays the admin until the returned function is called: every `pollMs` it authorizes (read-only) each stored
 * deploy key it has not authorized yet, and tells `say`.
 */
export function playGitHostAdmin(
  kube: KubeClient,
  say: (msg: string) => void = () => undefined,
  pollMs = 300,
): () => void {
  const done = new Set<string>();
  let stopped = false;
  const tick = async () => {
    const fresh = (await storedDeployKeys(kube)).filter((k) => !done.has(k.publicKey));
    if (fresh.length === 0) return;
    // All in one rewrite of authorized_keys (100 tenants' keys at once are one write, not 100).
    await authorizeKeys(
      fresh.map((k) => k.publicKey),
      { readOnly: true },
    );
    for (const k of fresh) {
      done.add(k.publicKey);
      say(`(playing the git host admin) added the deploy key of Secret ${k.secret} as a read-only key`);
    }
  };
  void (async () => {
    while (!stopped) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  return () => {
    stopped = true;
  };
}
