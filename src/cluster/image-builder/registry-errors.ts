// A registry's refusal as the step's user should read it: the registry's own words (the OCI error
// body's message) behind a word for the kind (`denied:` for a 403, `unauthorized:` for a 401), as a
// typed error of shared/errors.ts so the CI run and the CLI report it like any other.
import { Forbidden, type GantryError, Invalid, NotFound, Unauthorized, Unavailable } from '../../shared/errors.ts';

/** The first message of an OCI error body `{"errors":[{code, message}]}`, or null when there is none. */
export function errorMessage(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = parsed.errors?.[0];
    if (typeof first?.message === 'string' && first.message !== '') return first.message;
    if (typeof first?.code === 'string') return first.code;
  } catch {
    // not JSON: no message of the registry's
  }
  return null;
}

/** The first error code of an OCI error body (MANIFEST_UNKNOWN …), or null. */
export function errorCode(body: string): string | null {
  try {
    const code = (JSON.parse(body) as { errors?: Array<{ code?: unknown }> }).errors?.[0]?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

/** The error for a registry answer that is not what `what` (e.g. "PUT manifest team/web:1") expected. */
export function registryFailure(status: number, body: string, what: string): GantryError {
  // A HEAD has no body: then the request itself is the message.
  const message = errorMessage(body) ?? (body.trim().slice(0, 200) || `${what} was refused (${status})`);
  if (status === 401) return new Unauthorized(`unauthorized: ${message}`);
  if (status === 403) return new Forbidden(`denied: ${message}`);
  if (status === 404) return new NotFound(`${what}: ${message}`);
  if (status >= 500) return new Unavailable(`${what}: the registry answered ${status}: ${message}`);
  return new Invalid(`${what}: the registry refused it (${status}): ${message}`);
}
