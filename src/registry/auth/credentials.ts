// The credentials of an Authorization header: Basic (user name and password) or Bearer (a token).
import { RegistryError } from '../protocol/errors.ts';

export type Credentials = { scheme: 'basic'; name: string; password: string } | { scheme: 'bearer'; token: string };

export function parseAuthorization(header: string): Credentials {
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) return { scheme: 'bearer', token: value };
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1
      ? { scheme: 'basic', name: decoded, password: '' }
      : { scheme: 'basic', name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  throw new RegistryError('UNAUTHORIZED', `unsupported authorization scheme "${scheme.slice(0, 20)}": use Basic or Bearer`);
}

/** Clients without credentials answer a Basic challenge with empty ones (`Basic Og==`): anonymous. */
export function isEmptyBasic(credentials: Credentials): boolean {
  return credentials.scheme === 'basic' && credentials.name === '' && credentials.password === '';
}
