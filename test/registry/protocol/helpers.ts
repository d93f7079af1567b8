import assert from 'node:assert/strict';
import { RegistryError, type RegistryErrorCode } from '../../../src/registry/protocol/errors.ts';

/** Asserts that `fn` throws a RegistryError with this code (and status), whose message matches `message`. */
export function throwsRegistryError(fn: () => unknown, code: RegistryErrorCode, message?: RegExp, status?: number): RegistryError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RegistryError, `expected a RegistryError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, `code (message: ${caught.message})`);
  if (status !== undefined) assert.equal(caught.status, status);
  if (message) assert.match(caught.message, message);
  return caught;
}
