// A problem found in a document (a pipeline file, an app definition) before it is told to anyone: the
// field it is about as a path of keys and indexes. Each domain renders findings its own way (a line of a
// YAML file, Marathon's `/healthChecks(0)/portIndex`); the checks only know the path.

/** Keys and list indexes from the top of the file, e.g. `['steps', 1, 'depends_on']`. */
export type FieldPath = Array<string | number>;

/** A problem before it has a line. */
export interface Finding {
  /** The field named in the message. */
  path: FieldPath;
  message: string;
  /** The node whose line is reported, when it differs from `path` (an element inside the field). */
  at?: FieldPath;
  /** Report the line of the key rather than of its value (an unknown field). */
  atKey?: boolean;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['steps', 1, 'depends_on']` → `steps[1].depends_on`; odd keys are quoted: `env["A B"]`. */
export function formatFieldPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
