// The Go suite's status expectations (gomega's Equal / SatisfyAny / BeNumerically on StatusCode()), with
// the request and the answer in the failure message so a failing registry shows what it said.
import assert from 'node:assert/strict';
import type { RegistryResponse } from './client.ts';

/** A status that must be a 2xx; written as `SUCCESS` among the accepted statuses. */
export const SUCCESS = '2xx';
type Accepted = number | typeof SUCCESS;

/** The status is one of `accepted` (SUCCESS standing for any 2xx). */
export function expectStatus(res: RegistryResponse, ...accepted: Accepted[]): void {
  const ok = accepted.some((a) => (a === SUCCESS ? res.status >= 200 && res.status < 300 : res.status === a));
  assert.ok(ok, `expected status ${accepted.join(' or ')}: ${res.describe()}`);
}

/** A header that must be present. */
export function expectHeader(res: RegistryResponse, name: string): string {
  const value = res.header(name);
  assert.notEqual(value, '', `expected a ${name} header: ${res.describe()}`);
  return value;
}

/** A header that must have this value. */
export function expectHeaderEqual(res: RegistryResponse, name: string, expected: string): void {
  assert.equal(res.header(name), expected, `${name} of ${res.describe()}`);
}

/** Docker-Content-Digest is optional on some answers; when present it must be the right digest. */
export function expectDigestIfPresent(res: RegistryResponse, digest: string): void {
  const value = res.header('Docker-Content-Digest');
  if (value !== '') assert.equal(value, digest, `Docker-Content-Digest of ${res.describe()}`);
}

/** The JSON body, failing the spec (as the Go suite's Expect(err).To(BeNil())) when it is not JSON. */
export function expectJson<T>(res: RegistryResponse): T {
  try {
    return res.json<T>();
  } catch (err) {
    assert.fail(`expected a JSON body (${(err as Error).message}): ${res.describe()}`);
  }
}
