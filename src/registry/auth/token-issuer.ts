// The Docker token endpoint's contract (GET /token on the registry listener): the HTTP layer parses the
// request and renders the answer; an issuer decides who the caller is and what the token grants.

export interface TokenRequest {
  /** The request's Authorization header (Basic, or absent for an anonymous token). */
  authorization: string | undefined;
  /** The `service` parameter, when given. */
  service: string | undefined;
  /** Every `scope` parameter, as sent (`repository:NAME:pull,push`). */
  scopes: readonly string[];
}

export interface IssuedToken {
  token: string;
  /** Seconds the token is valid for. */
  expiresIn: number;
  /** ISO 8601. */
  issuedAt: string;
}

export interface RegistryTokenIssuer {
  /** Throws RegistryError UNAUTHORIZED for wrong credentials; grants what the caller may, never more. */
  issueToken(request: TokenRequest): Promise<IssuedToken>;
}
