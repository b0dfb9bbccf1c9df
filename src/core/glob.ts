/**
 * Redis's glob patterns (KEYS, SCAN MATCH, CONFIG GET): `*` any run, `?` any one character,
 * `[abc]` `[a-z]` `[^a]` a class, `\x` a literal x. Compiled once into tokens and matched in
 * O(pattern x text) at worst: on a mismatch the match goes back to the latest `*` only, never
 * to earlier ones, so `a*a*a*a*...b` against a long run of a's cannot take exponential time (a
 * recursive matcher does, and Redis's own test suite tries it). Going back to the latest star
 * is enough: whatever an earlier star could still absorb, the latest one can too.
 * Both threads use it (the nodes filter their keys with it).
 */

type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; char: string }
  | { kind: 'class'; negated: boolean; chars: string; ranges: Array<[string, string]> };

export class Glob {
  readonly #tokens: Token[];
  readonly #noCase: boolean;
  /** `*` alone: everything matches, with no work. */
  readonly all: boolean;

  constructor(pattern: string, noCase = false) {
    this.#noCase = noCase;
    this.#tokens = compile(noCase ? pattern.toLowerCase() : pattern);
    this.all = this.#tokens.length === 1 && this.#tokens[0]!.kind === 'star';
  }

  matches(input: string): boolean {
    if (this.all) return true;
    const text = this.#noCase ? input.toLowerCase() : input;
    const tokens = this.#tokens;
    let t = 0;
    let p = 0;
    // The latest star's token, and where in the text it was tried.
    let star = -1;
    let starAt = 0;
    while (t < text.length) {
      const token = tokens[p];
      if (token !== undefined && token.kind === 'star') {
        star = p++;
        starAt = t;
      } else if (token !== undefined && matchesOne(token, text[t]!)) {
        p++;
        t++;
      } else if (star >= 0) {
        // Let the latest star take one more character, and try again after it.
        p = star + 1;
        t = ++starAt;
      } else {
        return false;
      }
    }
    while (p < tokens.length && tokens[p]!.kind === 'star') p++;
    return p === tokens.length;
  }
}

function matchesOne(token: Token, c: string): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'char':
      return token.char === c;
    case 'class': {
      const inside = token.chars.includes(c) || token.ranges.some(([from, to]) => c >= from && c <= to);
      return inside !== token.negated;
    }
    case 'star':
      return false;
  }
}

function compile(pattern: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
    } else if (c === '\\' && i + 1 < pattern.length) {
      tokens.push({ kind: 'char', char: pattern[++i]! });
    } else if (c === '[') {
      i = compileClass(pattern, i + 1, tokens);
    } else {
      tokens.push({ kind: 'char', char: c });
    }
  }
  return tokens;
}

/** A class starting after its `[` at `from`; returns the index of its `]` (or the pattern's end, as Redis reads an unclosed one). */
function compileClass(pattern: string, from: number, tokens: Token[]): number {
  const token = { kind: 'class' as const, negated: pattern[from] === '^', chars: '', ranges: [] as Array<[string, string]> };
  let i = token.negated ? from + 1 : from;
  for (; i < pattern.length && pattern[i] !== ']'; i++) {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      token.chars += pattern[++i];
    } else if (pattern[i + 1] === '-' && i + 2 < pattern.length) {
      const [a, b] = [pattern[i]!, pattern[i + 2]!];
      token.ranges.push(a <= b ? [a, b] : [b, a]);
      i += 2;
    } else {
      token.chars += pattern[i];
    }
  }
  tokens.push(token);
  return i;
}
