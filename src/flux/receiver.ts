/**
 * Flux's webhook Receiver for the fleet GitRepository (`flux.webhook`). The token is generated here, kept
 * only in Secret flux-system/webhook-token (never printed, logged or recorded: registered with the masker),
 * and is also the webhook's HMAC secret on the git host. The Receiver is of type `github`: GitHub signs with
 * X-Hub-Signature-256, and Gitea sends the same GitHub-compatible headers (X-GitHub-Event, X-Hub-Signature-256).
 * Its path is notification-controller's `/hook/` + sha256(token + name + namespace), so a new token moves it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject, ObjectRef } from '../clients/kube.js';
import { isPlatctlError, PlatctlError } from '../errors.js';
import { registerSecret } from '../secrets.js';

/** The Receiver platctl manages. */
export const RECEIVER_REF: ObjectRef = {
  apiVersion: 'notification.toolkit.fluxcd.io/v1',
  kind: 'Receiver',
  namespace: 'flux-system',
  name: 'flux-system',
};

/** The Secret holding its token. */
export const TOKEN_SECRET_REF: ObjectRef = {
  apiVersion: 'v1',
  kind: 'Secret',
  namespace: 'flux-system',
  name: 'webhook-token',
};

/** The events the Receiver accepts: GitHub pings a new webhook; pushes move the fleet repo. */
export const RECEIVER_EVENTS = ['ping', 'push'];

/** The Receiver object: type github, the fleet GitRepository as its resource. */
export function receiverObject(cluster: string): KubeObject {
  return {
    apiVersion: RECEIVER_REF.apiVersion,
    kind: 'Receiver',
    metadata: {
      name: RECEIVER_REF.name,
      namespace: RECEIVER_REF.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'platctl', 'platctl.io/cluster': cluster },
    },
    spec: {
      type: 'github',
      events: RECEIVER_EVENTS,
      secretRef: { name: TOKEN_SECRET_REF.name },
      resources: [{ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', name: 'flux-system' }],
    },
  };
}

/** notification-controller's path for a Receiver and token. */
export function webhookPath(token: string, name = RECEIVER_REF.name, namespace = RECEIVER_REF.namespace): string {
  return `/hook/${createHash('sha256')
    .update(token + name + namespace)
    .digest('hex')}`;
}

type SecretObject = KubeObject & { data?: Record<string, string> };

/** The stored token, or undefined when the Secret is missing. */
export async function readReceiverToken(kube: KubeClient): Promise<string | undefined> {
  const secret = await kube.get<SecretObject>(TOKEN_SECRET_REF);
  if (!secret) return undefined;
  const raw = secret.data?.token;
  const token = raw ? Buffer.from(raw, 'base64').toString('utf8') : '';
  if (!token) {
    throw new PlatctlError('WEBHOOK_TOKEN_INVALID', 'Secret flux-system/webhook-token exists but has no `token`', {
      hint: 'delete the Secret and run again: platctl makes a new token and moves the webhook to it',
    });
  }
  registerSecret(token);
  registerSecret(raw);
  return token;
}

/** The token: the stored one, or a new one (32 random bytes, hex) put in the Secret. Never overwrites. */
export async function ensureReceiverToken(kube: KubeClient, cluster: string): Promise<string> {
  const existing = await readReceiverToken(kube);
  if (existing) return existing;
  const token = randomBytes(32).toString('hex');
  registerSecret(token);
  registerSecret(Buffer.from(token).toString('base64'));
  try {
    await kube.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: TOKEN_SECRET_REF.name,
        namespace: TOKEN_SECRET_REF.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'platctl', 'platctl.io/cluster': cluster },
      },
      type: 'Opaque',
      stringData: { token },
    });
  } catch (err) {
    // Someone made it meanwhile: theirs wins.
    if (!(isPlatctlError(err) && err.code === 'KUBE_CONFLICT')) throw err;
    const theirs = await readReceiverToken(kube);
    if (theirs) return theirs;
    throw err;
  }
  return token;
}
