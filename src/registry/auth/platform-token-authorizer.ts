// The registry's first policy, until users, robots and per-repository ACLs arrive (issue 3, next
// step): anyone may pull; pushing and deleting need a platform admin token, given as the password of
// HTTP Basic (`docker login -u admin -p TOKEN`, `skopeo --dest-creds admin:TOKEN`) or as a Bearer
// token. This is the stated default: anonymous pull, authenticated push.
import { RegistryError } from '../protocol/errors.ts';
import { ANONYMOUS, type RegistryAction, type RegistryAuthorizer, type RegistryIdentity } from './authorizer.ts';

/** Looks a secret up among the platform's admin tokens (the store hashes and compares). */
export type AdminTokenCheck = (secret: string) => Promise<boolean>;

const REALM = 'Gantry registry';

export class PlatformTokenAuthorizer implements RegistryAuthorizer {
  constructor(private readonly isAdminToken: AdminTokenCheck) {}

  async authenticate(authorization: string | undefined): Promise<RegistryIdentity> {
    if (!authorization) return ANONYMOUS;
    const { name, secret } = credentials(authorization);
    // Clients without credentials answer a Basic challenge with empty ones (`Basic Og==`): anonymous.
    if (name === '' && secret === '') return ANONYMOUS;
    if (!secret || !(await this.isAdminToken(secret))) {
      throw new RegistryError('UNAUTHORIZED', 'the credentials are not valid (the password is a Gantry admin token)');
    }
    return { name: name || 'admin', kind: 'admin' };
  }

  async allowed(identity: RegistryIdentity, _repository: string, actions: readonly RegistryAction[]): Promise<RegistryAction[]> {
    if (identity.kind === 'admin') return [...actions];
    return actions.filter((action) => action === 'pull');
  }

  challenge(): string {
    return `Basic realm="${REALM}"`;
  }
}

/** The user name and secret of a Basic or Bearer Authorization header. */
function credentials(header: string): { name: string; secret: string } {
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme ?? '')) return { name: '', secret: value };
  if (/^basic$/i.test(scheme ?? '')) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? { name: decoded, secret: '' } : { name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  throw new RegistryError('UNAUTHORIZED', `unsupported authorization scheme "${(scheme ?? '').slice(0, 20)}": use Basic or Bearer`);
}
