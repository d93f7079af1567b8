// Marathon's label selector for GET /v2/apps?label= (api/v2/LabelSelector.scala, LabelSelectorParsers):
//   query:    selector {, selector}             every selector must hold
//   selector: term                              the label exists
//           | term (== | !=) term               it exists and its value is (not) the term
//           | term (in | notin) ( term {, term} )   it exists and its value is (not) one of the terms
//   term:     [-A-Za-z0-9_.] or a backslash and any character, one or more
// Blanks between tokens are skipped, as Marathon's RegexParsers skip them.
import { Invalid } from '../../../shared/errors.ts';

export interface LabelSelector {
  key: string;
  matches(value: string): boolean;
}

/** Whether the labels satisfy every selector of the query. */
export function matchesLabels(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>>): boolean {
  return selectors.every((s) => Object.hasOwn(labels, s.key) && s.matches(labels[s.key]!));
}

/** The query's selectors; Invalid (Marathon: IllegalArgumentException) naming the query when it does not parse. */
export function parseLabelSelectors(query: string): LabelSelector[] {
  const tokens = tokenize(query);
  let at = 0;
  const fail = (why: string): never => {
    throw new Invalid(`Can not parse label selector ${query}. Reason: ${why}`);
  };
  const peek = () => tokens[at];
  const take = () => tokens[at++];
  const term = (): string => {
    const token = take();
    if (token?.kind !== 'term') fail(`a label or value was expected${token ? ` where "${token.text}" is` : ' at the end'}`);
    return token!.text;
  };
  const selectors: LabelSelector[] = [];
  if (tokens.length === 0) return selectors;
  for (;;) {
    const key = term();
    const next = peek();
    if (next?.kind === 'op' && (next.text === '==' || next.text === '!=')) {
      take();
      const value = term();
      selectors.push({ key, matches: next.text === '==' ? (v) => v === value : (v) => v !== value });
    } else if (next?.kind === 'term' && (next.text === 'in' || next.text === 'notin')) {
      take();
      if (take()?.text !== '(') fail(`"(" was expected after ${next.text}`);
      const set: string[] = [];
      if (peek()?.text !== ')') {
        for (;;) {
          set.push(term());
          if (peek()?.text !== ',') break;
          take();
        }
      }
      if (take()?.text !== ')') fail('")" was expected to close the set');
      selectors.push({ key, matches: next.text === 'in' ? (v) => set.includes(v) : (v) => !set.includes(v) });
    } else {
      selectors.push({ key, matches: () => true });
    }
    const separator = take();
    if (separator === undefined) return selectors;
    if (separator.text !== ',') fail(`"," was expected where "${separator.text}" is`);
  }
}

interface Token {
  kind: 'term' | 'op' | 'punct';
  text: string;
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === '!') {
      const op = query.slice(i, i + 2);
      if (op !== '==' && op !== '!=') throw new Invalid(`Can not parse label selector ${query}. Reason: "${c}" is not an operator (== or !=; escape it as \\${c} in a label)`);
      tokens.push({ kind: 'op', text: op });
      i += 2;
    } else if (c === ',' || c === '(' || c === ')') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else {
      let text = '';
      while (i < query.length) {
        const d = query[i]!;
        if (d === '\\' && i + 1 < query.length) {
          text += query[i + 1];
          i += 2;
        } else if (/[-A-Za-z0-9_.]/.test(d)) {
          text += d;
          i++;
        } else {
          break;
        }
      }
      if (text === '') throw new Invalid(`Can not parse label selector ${query}. Reason: "${c}" must be escaped with a backslash`);
      tokens.push({ kind: 'term', text });
    }
  }
  return tokens;
}
