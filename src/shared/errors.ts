// Typed domain errors. The domain throws these; the HTTP layer maps them to a status and a JSON body
// `{error, message}` in one place (src/server/errors.ts), the CLI prints `message` and exits non-zero.

export class GantryError extends Error {
  /** Stable machine-readable code, e.g. "not_found". */
  readonly code: string;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: string, status: number, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export class Invalid extends GantryError {
  constructor(message: string, details?: unknown) {
    super('invalid', 400, message, details);
  }
}

export class Unauthorized extends GantryError {
  constructor(message = 'a valid token is required (Authorization: Bearer TOKEN)') {
    super('unauthorized', 401, message);
  }
}

export class Forbidden extends GantryError {
  constructor(message: string) {
    super('forbidden', 403, message);
  }
}

export class NotFound extends GantryError {
  constructor(message: string) {
    super('not_found', 404, message);
  }
}

export class Conflict extends GantryError {
  constructor(message: string, details?: unknown) {
    super('conflict', 409, message, details);
  }
}

/** What was asked for existed once and is no more (a watch cursor too old, a log removed by retention). */
export class Gone extends GantryError {
  constructor(message: string, details?: unknown) {
    super('gone', 410, message, details);
  }
}

/** A request that is well formed but can never be satisfied (e.g. more CPU than any agent has). */
export class Unsatisfiable extends GantryError {
  constructor(message: string, details?: unknown) {
    super('unsatisfiable', 422, message, details);
  }
}

/** Something the operation needs is not available right now (a port in use, a server down). */
export class Unavailable extends GantryError {
  constructor(message: string) {
    super('unavailable', 503, message);
  }
}
