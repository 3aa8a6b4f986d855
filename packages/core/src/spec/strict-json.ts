// JSON read as strictly as YAML is: JSON.parse keeps the last of two equal keys, so a spec
// with `"repetitions"` twice would silently run with only one of them. parseJsonStrict parses
// and then scans the text once for a key repeated in the same object, naming its path and
// line. Keys that reach into JavaScript's object model (__proto__, constructor, prototype) are
// refused by checkPrototypeKeys with a message a person understands.

import { SeconetError } from '../errors.js';
import { formatPath } from './explain.js';

type Frame = { kind: 'object'; keys: Set<string>; key: string | undefined; expectKey: boolean } | { kind: 'array'; index: number };

function pathOf(stack: readonly Frame[]): Array<string | number> {
  return stack.map((f) => (f.kind === 'object' ? (f.key ?? '') : f.index));
}

/** The first key repeated within one object: its path and line, or undefined. `text` must be valid JSON. */
export function findDuplicateJsonKey(text: string): { path: Array<string | number>; line: number } | undefined {
  const stack: Frame[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '{') stack.push({ kind: 'object', keys: new Set(), key: undefined, expectKey: true });
    else if (c === '[') stack.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        top.expectKey = false;
        top.key = key;
        if (top.keys.has(key)) return { path: pathOf(stack), line };
        top.keys.add(key);
      }
      i = j;
    }
  }
  return undefined;
}

/** JSON.parse that refuses a key given twice in one object (INVALID_SPEC naming it). */
export function parseJsonStrict(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  const dup = findDuplicateJsonKey(text);
  if (dup !== undefined) {
    const field = formatPath(dup.path);
    throw new SeconetError('INVALID_SPEC', `${field}: the key ${JSON.stringify(dup.path.at(-1))} appears twice in the same object (line ${dup.line}); JSON readers keep only one of them, so remove the other`, { field, details: { line: dup.line } });
  }
  return value;
}

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses keys named __proto__, constructor or prototype anywhere in a parsed document. */
export function checkPrototypeKeys(value: unknown, path: Array<string | number> = []): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkPrototypeKeys(v, [...path, i]));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const key of Object.keys(value)) {
    const here = [...path, key];
    if (PROTOTYPE_KEYS.has(key)) {
      const field = formatPath(here);
      throw new SeconetError('INVALID_SPEC', `${field}: "${key}" is not a field of the spec; keys named __proto__, constructor or prototype are refused because they would tamper with how the program stores objects. Remove it`, { field });
    }
    checkPrototypeKeys((value as Record<string, unknown>)[key], here);
  }
}
