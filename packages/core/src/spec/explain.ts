// Turns "this value does not match this JSON Schema" into one sentence a user can act on:
// the first problem in document order, its path (`matrix.tunnel[2]`), what is wrong and the
// fix. TypeBox's own errors list every failed branch of a union; walking the schema here
// instead follows the branch that fits the value's shape, so a typo in a tunnel name reads
// "unknown tunnel 'wiregaurd' (did you mean 'wireguard'?)" rather than three anyOf failures.
// It covers the keywords schema.ts uses; anything else falls back to TypeBox's message.

export interface Problem {
  /** Path segments: property names and array indexes. */
  readonly path: ReadonlyArray<string | number>;
  /** What is wrong and the fix, without the path (callers prefix `formatPath(path)`). */
  readonly message: string;
}

type Schema = Record<string, unknown>;

/** `matrix.tunnel[2]`, `workloads[1].payload`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const got = typeOf(v);
  return want === got || (want === 'number' && got === 'integer');
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of fields',
  null: 'empty',
};

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** The closest candidate within a few edits, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function noun(path: ReadonlyArray<string | number>): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') return i < path.length - 1 && seg.endsWith('s') ? seg.slice(0, -1) : seg;
  }
  return 'value';
}

function enumValues(s: Schema): unknown[] | undefined {
  if (Array.isArray(s['enum'])) return s['enum'] as unknown[];
  if ('const' in s) return [s['const']];
  if (Array.isArray(s['anyOf']) && (s['anyOf'] as Schema[]).every((b) => 'const' in b)) return (s['anyOf'] as Schema[]).map((b) => b['const']);
  return undefined;
}

function unknownValue(path: ReadonlyArray<string | number>, v: unknown, allowed: unknown[]): Problem {
  const names = allowed.map(String);
  const hint = typeof v === 'string' ? closest(v, names) : undefined;
  const dym = hint === undefined ? '' : ` (did you mean '${hint}'?)`;
  return { path, message: `unknown ${noun(path)} ${show(v)}${dym}; one of: ${names.join(', ')}` };
}

/** The first problem of `value` against `schema`, or undefined when it fits. */
export function explain(schema: Schema, value: unknown, path: ReadonlyArray<string | number> = []): Problem | undefined {
  const allowed = enumValues(schema);
  if (allowed !== undefined && !Array.isArray(schema['anyOf'])) {
    return allowed.some((a) => a === value) ? undefined : unknownValue(path, value, allowed);
  }
  if (Array.isArray(schema['anyOf'])) {
    const branches = schema['anyOf'] as Schema[];
    if (allowed !== undefined) return allowed.some((a) => a === value) ? undefined : unknownValue(path, value, allowed);
    const fitting = branches.filter((b) => b['type'] === undefined ? enumValues(b)?.some((a) => typeof a === typeof value) : typeMatches(b['type'] as string, value));
    for (const b of fitting) {
      const p = explain(b, value, path);
      if (p === undefined) return undefined;
    }
    if (fitting.length > 0) return explain(bestBranch(fitting, value), value, path);
    const words = branches.map((b) => (typeof b['type'] === 'string' ? (TYPE_WORDS[b['type']] ?? b['type']) : enumValues(b) ? 'a name' : 'a value'));
    return { path, message: `is ${show(value)}; expected ${[...new Set(words)].join(' or ')}` };
  }
  const type = schema['type'];
  if (typeof type === 'string' && !typeMatches(type, value)) {
    return { path, message: `must be ${TYPE_WORDS[type] ?? type}, not ${show(value)}` };
  }
  if (type === 'object' && value !== null && typeof value === 'object') return explainObject(schema, value as Record<string, unknown>, path);
  if (type === 'array' && Array.isArray(value)) return explainArray(schema, value, path);
  if (typeof value === 'number') return explainNumber(schema, value, path);
  if (typeof value === 'string') return explainString(schema, value, path);
  return undefined;
}

/** Among object branches, the one the value most looks like: required keys present, then known keys. */
function bestBranch(branches: Schema[], value: unknown): Schema {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return branches[0]!;
  const keys = Object.keys(value);
  let best = branches[0]!;
  let bestScore = -1;
  for (const b of branches) {
    const props = (b['properties'] ?? {}) as Record<string, unknown>;
    const required = (b['required'] ?? []) as string[];
    const score = (required.every((r) => keys.includes(r)) ? 1000 : 0) + keys.filter((k) => k in props).length;
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  return best;
}

function explainObject(schema: Schema, value: Record<string, unknown>, path: ReadonlyArray<string | number>): Problem | undefined {
  const props = (schema['properties'] ?? {}) as Record<string, Schema>;
  const where = formatPath(path) || 'the spec';
  const known = Object.keys(props);
  if (schema['additionalProperties'] === false) {
    for (const key of Object.keys(value)) {
      if (!(key in props)) {
        if (schema['maxProperties'] === 1) return unknownValue(path, key, known);
        const hint = closest(key, known);
        const dym = hint === undefined ? '' : ` (did you mean '${hint}'?)`;
        return { path: [...path, key], message: `unknown field '${key}' in ${where}${dym}; allowed: ${known.join(', ')}` };
      }
    }
  }
  const n = Object.keys(value).length;
  if (typeof schema['minProperties'] === 'number' && n < schema['minProperties']) {
    return { path, message: `is empty; give one of: ${known.join(', ')}` };
  }
  if (typeof schema['maxProperties'] === 'number' && n > schema['maxProperties']) {
    return { path, message: `has ${n} fields (${Object.keys(value).join(', ')}); give exactly ${schema['maxProperties']}: list each as its own entry` };
  }
  for (const req of (schema['required'] ?? []) as string[]) {
    if (!(req in value) || value[req] === undefined) return { path: [...path, req], message: `missing; ${where} needs the field '${req}'` };
  }
  for (const [key, sub] of Object.entries(props)) {
    if (key in value && value[key] !== undefined) {
      const p = explain(sub, value[key], [...path, key]);
      if (p) return p;
    }
  }
  return undefined;
}

function explainArray(schema: Schema, value: unknown[], path: ReadonlyArray<string | number>): Problem | undefined {
  if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) {
    return { path, message: `is empty; list at least ${schema['minItems']} ${noun([...path, 0])}${schema['minItems'] === 1 ? '' : 's'}` };
  }
  if (typeof schema['maxItems'] === 'number' && value.length > schema['maxItems']) {
    // A fleet larger than one experiment's host list is swept by several experiments on disjoint
    // host groups; the queue runs them at once (worker.concurrency), each holding its hosts' locks.
    const fix = path.length === 1 && path[0] === 'hosts'
      ? `split the fleet into experiments of at most ${schema['maxItems']} hosts each (they run at once on disjoint hosts, up to the controller's worker.concurrency)`
      : 'split the experiment';
    return { path, message: `has ${value.length} entries; at most ${schema['maxItems']} are allowed: ${fix}` };
  }
  const items = schema['items'] as Schema | undefined;
  if (items) {
    for (let i = 0; i < value.length; i++) {
      const p = explain(items, value[i], [...path, i]);
      if (p) return p;
    }
  }
  if (schema['uniqueItems'] === true) {
    const seen = new Map<string, number>();
    for (let i = 0; i < value.length; i++) {
      const key = JSON.stringify(value[i]);
      const first = seen.get(key);
      if (first !== undefined) return { path: [...path, i], message: `repeats ${show(value[i])} (already at [${first}]); remove the duplicate` };
      seen.set(key, i);
    }
  }
  return undefined;
}

function explainNumber(schema: Schema, value: number, path: ReadonlyArray<string | number>): Problem | undefined {
  const min = schema['minimum'];
  const max = schema['maximum'];
  const xmin = schema['exclusiveMinimum'];
  const range = `${typeof min === 'number' ? min : typeof xmin === 'number' ? `more than ${xmin}` : ''}..${typeof max === 'number' ? max : ''}`;
  if (!Number.isFinite(value)) return { path, message: 'must be a finite number' };
  if (typeof min === 'number' && value < min) return { path, message: `is ${value}; it must be at least ${min} (allowed ${range})` };
  if (typeof xmin === 'number' && value <= xmin) return { path, message: `is ${value}; it must be more than ${xmin} (allowed ${range})` };
  if (typeof max === 'number' && value > max) return { path, message: `is ${value}; it must be at most ${max} (allowed ${range})` };
  if (typeof schema['multipleOf'] === 'number' && value % schema['multipleOf'] !== 0) {
    const m = schema['multipleOf'];
    const extra = noun(path) === 'container' ? ': each pair is a source and a sink' : '';
    return { path, message: `is ${value}; it must be a multiple of ${m}${extra} (try ${value + (m - (value % m))})` };
  }
  return undefined;
}

function explainString(schema: Schema, value: string, path: ReadonlyArray<string | number>): Problem | undefined {
  if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) return { path, message: `is ${value.length} characters long; at most ${schema['maxLength']} are allowed` };
  if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) {
    return { path, message: `${show(value)} is not a valid name: use lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters` };
  }
  return undefined;
}
