// The YAML text of a pipeline file, kept as a document with source ranges so that every problem found
// later in the plain JavaScript value can be reported at its line.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { FieldPath } from './findings.ts';

export interface YamlSource {
  document: Document;
  lines: LineCounter;
  /** The file as plain JavaScript (maps as objects, anchors and `<<` merges resolved). */
  value: unknown;
}

export interface SyntaxProblem {
  line: number;
  message: string;
}

/** Friendlier words for the YAML errors people meet most. */
const SYNTAX_HINTS: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (---); one file is one pipeline, put the next one in its own file',
  DUPLICATE_KEY: 'the same key appears twice in this mapping',
  TAB_AS_INDENT: 'tabs are not allowed as indentation in YAML; indent with spaces',
};

/** Parses the text; YAML errors come back each with its own line, and then there is no value to check. */
export function readYaml(text: string): { source: YamlSource; problems: SyntaxProblem[] } {
  const lines = new LineCounter();
  // `merge`: Woodpecker and Drone files share settings with anchors and `<<: *defaults`.
  const document = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const problems = document.errors.map((error) => ({
    line: lines.linePos(error.pos[0]).line,
    message: `invalid YAML: ${SYNTAX_HINTS[error.code] ?? firstLine(error.message)}`,
  }));
  let value: unknown;
  if (problems.length === 0) {
    try {
      // A .gantry.yml comes from whoever can push: the alias limit stops a "billion laughs" expansion.
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push({ line: 1, message: `invalid YAML: ${(error as Error).message}` });
    }
  }
  return { source: { document, lines, value }, problems };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * The line to report for a field. The path is followed as far as the file has it (a missing field is
 * reported on its parent); `atKey` points at the key itself, and an empty value is reported on its key.
 */
export function lineOf(source: YamlSource, path: FieldPath, atKey = false): number {
  let node: unknown = source.document.contents;
  let pair: Pair | null = null;
  for (const segment of path) {
    const found = child(source.document, node, segment);
    if (found === null) break;
    node = found.node;
    pair = found.pair;
  }
  const keyNode = pair !== null && isNodeWithRange(pair.key) ? pair.key : null;
  // `key:` with nothing after it is a zero-width null scalar that starts wherever the next token is.
  const valueIsEmpty = isScalar(node) && isNodeWithRange(node) && node.range[0] === node.range[1];
  const target = atKey || valueIsEmpty || !isNodeWithRange(node) ? (keyNode ?? node) : node;
  const offset = isNodeWithRange(target) ? target.range[0] : 0;
  return source.lines.linePos(offset).line;
}

interface Descent {
  node: unknown;
  pair: Pair | null;
}

/** One step down the tree, through aliases and `<<` merges; null when the file does not have it. */
function child(document: Document, parent: unknown, segment: string | number): Descent | null {
  const resolved = isAlias(parent) ? parent.resolve(document) : parent;
  if (isSeq(resolved) && typeof segment === 'number') {
    const item = resolved.items[segment];
    return item === undefined ? null : { node: item, pair: null };
  }
  if (!isMap(resolved)) return null;
  const own = resolved.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
  if (own !== undefined) return { node: own.value, pair: own };
  for (const merge of resolved.items.filter((p) => isMergeKey(p.key))) {
    const sources = isSeq(merge.value) ? merge.value.items : [merge.value];
    for (const merged of sources) {
      const found = child(document, merged, segment);
      if (found !== null) return found;
    }
  }
  return null;
}

function keyText(key: unknown): string | null {
  return isScalar(key) && typeof key.value !== 'symbol' ? String(key.value) : null;
}

/** With `merge: true` the key of `<<: *anchor` is a scalar holding a symbol whose description is `<<`. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'));
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}
