/**
 * The kube error predicates and the one retry-on-conflict loop: every caller that reads, changes and writes
 * with a resourceVersion (state ConfigMap, Lease, aws-auth, the tenant Gateway) goes through them.
 */
import { describe, expect, it } from 'vitest';
import { isConflict, isNotFound, kubeClientOver, kubeError, retryOnConflict } from '../../src/clients/kube.js';
import type { KubeTransport } from '../../src/clients/kube-transport.js';
import { PlatctlError } from '../../src/errors.js';
import { createFakeKube } from '../helpers/fake-kube.js';

/** A transport answering from a table of "METHOD path" → [status, body]; anything else is 404. */
function tableTransport(table: Record<string, [number, unknown]>): KubeTransport {
  return {
    server: 'https://table.example',
    async request(method, path) {
      const [status, body] = table[`${method} ${path}`] ?? [404, { message: 'not found' }];
      return { status, body: JSON.stringify(body) };
    },
  };
}

describe('isNotFound / isConflict', () => {
  it('tell 404s and 409s from the API apart from everything else', () => {
    expect(isNotFound(kubeError(404, 'read x', '{"message":"gone"}'))).toBe(true);
    expect(isConflict(kubeError(409, 'replace x', '{"message":"stale"}'))).toBe(true);
    expect(isNotFound(kubeError(409, 'x', ''))).toBe(false);
    expect(isConflict(kubeError(404, 'x', ''))).toBe(false);
    expect(isConflict(kubeError(500, 'x', ''))).toBe(false);
    expect(isNotFound(Object.assign(new Error('plain'), { status: 404 }))).toBe(false);
    expect(isConflict(new PlatctlError('KUBE_CONFLICT', 'a conflict raised by platctl itself'))).toBe(true);
  });

  it('call a kind the API server does not serve not found (its CRD is not installed)', async () => {
    const kube = kubeClientOver(
      tableTransport({
        'GET /apis/example.io/v1': [200, { resources: [{ name: 'things', kind: 'Thing', namespaced: true }] }],
      }),
    );
    const missingKind = await kube.list('example.io/v1', 'Other').catch((e: unknown) => e);
    expect(isNotFound(missingKind)).toBe(true);
    const missingGroup = await kube.get({ apiVersion: 'nope.io/v1', kind: 'X', name: 'a' }).catch((e: unknown) => e);
    expect(isNotFound(missingGroup)).toBe(true);
  });

  it('recognise the fake cluster’s conflicts like the real ones', async () => {
    const kube = createFakeKube();
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const err = await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }).catch((e) => e);
    expect(isConflict(err)).toBe(true);
  });
});

describe('retryOnConflict', () => {
  const conflict = () => kubeError(409, 'replace x', '{"message":"the object has been modified"}');

  it('runs the attempt again after a conflict, numbering the attempts', async () => {
    const seen: number[] = [];
    const result = await retryOnConflict(
      async (n) => {
        seen.push(n);
        if (n < 3) throw conflict();
        return 'written';
      },
      { attempts: 5 },
    );
    expect(result).toBe('written');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('passes any other error through at once', async () => {
    let calls = 0;
    const err = await retryOnConflict(
      async () => {
        calls++;
        throw kubeError(403, 'replace x', '{"message":"forbidden"}');
      },
      { attempts: 5 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(isConflict(err)).toBe(false);
    expect((err as Error).message).toBe('replace x: 403 forbidden');
  });

  it('gives up after the last attempt with the error `exhausted` makes, or the conflict itself', async () => {
    let calls = 0;
    const always = async () => {
      calls++;
      throw conflict();
    };
    const made = await retryOnConflict(always, {
      attempts: 3,
      exhausted: (last) => new PlatctlError('STATE_CONFLICT', 'gave up', { cause: last }),
    }).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(made).toMatchObject({ code: 'STATE_CONFLICT', message: 'gave up' });
    expect(isConflict((made as Error).cause)).toBe(true);
    const plain = await retryOnConflict(always, { attempts: 2 }).catch((e: unknown) => e);
    expect(calls).toBe(5);
    expect(isConflict(plain)).toBe(true);
  });
});
