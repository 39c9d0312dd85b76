/** PlatctlError's exit codes, and describeError/wrapError keeping the low-level cause. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeError,
  type ErrorCode,
  ErrorCodes,
  ExitCode,
  errorDoc,
  isPlatctlError,
  PlatctlError,
  wrapError,
} from '../src/errors.js';
import { reportError } from '../src/report-error.js';

describe('PlatctlError', () => {
  it.each(Object.entries(ErrorCodes) as Array<[ErrorCode, number]>)('%s exits %i', (code, exit) => {
    const err = new PlatctlError(code, 'something');
    expect(err.exitCode).toBe(exit);
    expect(err.code).toBe(code);
    expect(isPlatctlError(err)).toBe(true);
  });

  it('maps config and usage problems to 2, locks to 3, failures to 1', () => {
    expect(new PlatctlError('CONFIG_INVALID', 'x').exitCode).toBe(2);
    expect(new PlatctlError('UNKNOWN_STEP', 'x').exitCode).toBe(2);
    expect(new PlatctlError('AWS_ACCOUNT_MISMATCH', 'x').exitCode).toBe(2);
    expect(new PlatctlError('LOCK_HELD', 'x').exitCode).toBe(3);
    expect(new PlatctlError('STATE_CORRUPT', 'x').exitCode).toBe(1);
    expect(new PlatctlError('STEP_FAILED', 'x').exitCode).toBe(1);
    expect(new Set(Object.values(ErrorCodes))).toEqual(
      new Set([ExitCode.usage, ExitCode.aborted, ExitCode.stepFailed]),
    );
  });

  it('carries hint, cause and an exit code override', () => {
    const cause = new Error('low level');
    const err = new PlatctlError('AWS_API', 'create role x', { hint: 'check IAM', cause, exitCode: ExitCode.aborted });
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('create role x');
    expect(err.hint).toBe('check IAM');
    expect(err.cause).toBe(cause);
    expect(err.exitCode).toBe(3);
    expect(err.name).toBe('PlatctlError');
  });

  it('is recognised by brand across module copies, and not for look-alikes', () => {
    expect(isPlatctlError({ isPlatctlError: true, code: 'USAGE' })).toBe(true);
    expect(isPlatctlError(new Error('x'))).toBe(false);
    expect(isPlatctlError({ isPlatctlError: 'yes' })).toBe(false);
    expect(isPlatctlError(null)).toBe(false);
  });
});

describe('describeError', () => {
  it('prefixes a named error with its name, an AWS error with its Code', () => {
    expect(describeError(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
    const aws = Object.assign(new Error('User is not authorized'), {
      name: 'AccessDenied',
      Code: 'AccessDeniedException',
    });
    expect(describeError(aws)).toBe('AccessDeniedException: User is not authorized');
  });

  it('keeps only the first line, and does not repeat a name already in the message', () => {
    expect(describeError(new Error('first line\n  at somewhere\nmore'))).toBe('first line');
    const named = Object.assign(new Error('ThrottlingException: Rate exceeded'), { name: 'ThrottlingException' });
    expect(describeError(named)).toBe('ThrottlingException: Rate exceeded');
  });

  it('stringifies non-errors', () => {
    expect(describeError('plain string')).toBe('plain string');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });
});

describe('wrapError', () => {
  it('wraps a low-level failure as "<what>: <cause>", keeping the cause and hint', () => {
    const low = Object.assign(new Error('Role already exists'), { name: 'EntityAlreadyExists' });
    const err = wrapError('AWS_API', 'failed to create IAM role eks-vault-demo', low, 'delete it first');
    expect(err.code).toBe('AWS_API');
    expect(err.message).toBe('failed to create IAM role eks-vault-demo: EntityAlreadyExists: Role already exists');
    expect(err.cause).toBe(low);
    expect(err.hint).toBe('delete it first');
    expect(err.exitCode).toBe(1);
  });

  it('passes a PlatctlError through unchanged', () => {
    const inner = new PlatctlError('LOCK_HELD', 'locked');
    expect(wrapError('AWS_API', 'outer', inner)).toBe(inner);
  });
});

describe('error codes', () => {
  it('name what the user does: only the runner uses STEP_FAILED, for errors it did not anticipate', () => {
    const files = [...readdirSync('src', { recursive: true }), ...readdirSync('steps').map((f) => `../steps/${f}`)]
      .map(String)
      .filter((f) => f.endsWith('.ts'));
    const users = files.filter((f) => /['"]STEP_FAILED['"]/.test(readFileSync(path.join('src', f), 'utf8')));
    expect(users).toEqual([path.join('runner', 'pipeline.ts')]);
  });

  it('link to their row in docs/errors.md from the printed hint', () => {
    expect(errorDoc('VAULT_SEALED')).toBe('docs/errors.md#vault-sealed');
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((l: string) => lines.push(l) > 0) as typeof process.stderr.write;
    try {
      reportError(new PlatctlError('VAULT_SEALED', 'sealed', { hint: 'check KMS' }), false, false);
      reportError(new PlatctlError('USAGE', 'no hint here'), false, false);
    } finally {
      process.stderr.write = write;
    }
    expect(lines).toEqual([
      '✗ sealed\n',
      '  hint: check KMS (see docs/errors.md#vault-sealed)\n',
      '✗ no hint here\n',
      '  hint: see docs/errors.md#usage\n',
    ]);
  });
});
