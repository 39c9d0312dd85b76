/**
 * The run lock once state is in the cluster: Lease platctl-system/platctl-lock. Taken with optimistic
 * concurrency, renewed every {@link RENEW_SECONDS} while the run lives, released at the end. An expired lease, or
 * one whose holder is a dead process on this host, is taken over; a live one makes the run exit 3.
 */
import { type KubeClient, type KubeObject, retryOnConflict } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';
import type { Logger } from '../log.js';
import { ensureSystemNamespace, SYSTEM_NAMESPACE } from '../state/configmap.js';
import type { RunLock } from './file-lock.js';
import { formatAge, holderIdentity, holderIsDead } from './holder.js';

/** Name of the Lease. */
export const LOCK_LEASE = 'platctl-lock';
const DURATION_SECONDS = 60;
const RENEW_SECONDS = 15;

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

const microTime = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: SYSTEM_NAMESPACE, name: LOCK_LEASE };

/** The holder's command (bootstrap, teardown, …), so a refused run can say what it waits for. */
const COMMAND_ANNOTATION = 'platctl.io/command';

function leaseBody(spec: Lease['spec'], command: string, resourceVersion?: string): Lease {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: {
      name: LOCK_LEASE,
      namespace: SYSTEM_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'platctl' },
      annotations: { [COMMAND_ANNOTATION]: command },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec,
  };
}

/** Takes the cluster Lease; throws LOCK_HELD (exit 3) naming the holder and the lock's age. */
export async function acquireLease(
  kube: KubeClient,
  opts: { breakLock?: boolean; log: Logger; command: string; cluster?: string },
): Promise<RunLock> {
  await ensureSystemNamespace(kube);
  const me = holderIdentity();
  // Each attempt reads the Lease afresh: after a conflict someone else wrote it, maybe a live holder.
  return retryOnConflict(
    async () => {
      const current = await kube.get<Lease>(ref);
      const holder = current?.spec?.holderIdentity;
      if (holder && holder !== me) {
        const renewed = new Date(current?.spec?.renewTime ?? current?.spec?.acquireTime ?? 0);
        const expired =
          Date.now() - renewed.getTime() > (current?.spec?.leaseDurationSeconds ?? DURATION_SECONDS) * 1000;
        const acquired = new Date(current?.spec?.acquireTime ?? renewed);
        if (!expired && !holderIsDead(holder) && !opts.breakLock) {
          const what = current?.metadata.annotations?.[COMMAND_ANNOTATION];
          throw new PlatctlError(
            'LOCK_HELD',
            `cluster${opts.cluster ? ` ${opts.cluster}` : ''} is locked by ${holder}${what ? ` (${what})` : ''} for ${formatAge(acquired)} (Lease ${SYSTEM_NAMESPACE}/${LOCK_LEASE})`,
            {
              hint: 'wait for that run to finish; if it is gone, re-run with --break-lock',
            },
          );
        }
        opts.log.warning(`taking over the lock held by ${holder}${expired ? ' (expired)' : ''}`);
      }
      const now = microTime();
      const spec = {
        holderIdentity: me,
        leaseDurationSeconds: DURATION_SECONDS,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (holder && holder !== me ? 1 : 0),
      };
      const rv = current?.metadata.resourceVersion;
      const body = leaseBody(spec, opts.command, rv);
      return heldLease(kube, rv ? await kube.replace<Lease>(body) : await kube.create<Lease>(body), opts);
    },
    {
      attempts: 5,
      exhausted: (last) =>
        new PlatctlError('LOCK_HELD', `could not take Lease ${SYSTEM_NAMESPACE}/${LOCK_LEASE}: it keeps changing`, {
          cause: last,
        }),
    },
  );
}

function heldLease(kube: KubeClient, lease: Lease, { log, command }: { log: Logger; command: string }): RunLock {
  let latest = lease;
  let lost = false;
  const renew = async () => {
    try {
      latest = await kube.replace<Lease>(
        leaseBody({ ...latest.spec, renewTime: microTime() }, command, latest.metadata.resourceVersion),
      );
      // A renewal that failed once (the apiserver briefly away) and works again: the Lease is still ours.
      lost = false;
    } catch (err) {
      lost = true;
      log.warning(`could not renew the run lock: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void renew(), RENEW_SECONDS * 1000);
  timer.unref();
  return {
    kind: 'lease',
    async release() {
      clearInterval(timer);
      if (lost) return;
      try {
        await kube.replace<Lease>(
          leaseBody({ ...latest.spec, holderIdentity: null }, command, latest.metadata.resourceVersion),
        );
      } catch (err) {
        log.warning(`could not release the run lock: ${(err as Error).message}`);
      }
    },
  };
}
