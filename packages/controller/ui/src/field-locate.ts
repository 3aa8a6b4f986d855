// Finds where in the spec text a field the server named ("matrix.tunnel[1]",
// "workloads[0].throughput-basic.payload") sits, so the error is shown at that line. The text is
// parsed with the same `yaml` library the controller uses (JSON is YAML too), loaded only when a
// spec is rejected. A field that is missing points at its nearest parent that exists.

export function parseField(field: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

export interface Location {
  /** 1-based line of the field (or of its nearest existing parent). */
  readonly line: number;
  readonly start: number;
  readonly end: number;
  /** True when the named field itself was found. */
  readonly exact: boolean;
}

export async function locateField(text: string, field: string): Promise<Location | undefined> {
  const { parseDocument, isNode } = await import('yaml');
  const doc = parseDocument(text, { keepSourceTokens: false });
  const path = parseField(field);
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const [start, end] = node.range;
      // A key's line reads better than its value's when the value is a block below it.
      let at = start;
      const key = path[n - 1];
      if (n > 0 && typeof key === 'string') {
        const before = text.lastIndexOf(key, start);
        if (before >= 0 && !text.slice(before, start).includes('\n\n')) at = before;
      }
      return { line: text.slice(0, at).split('\n').length, start: at, end, exact: n === path.length };
    }
  }
  return undefined;
}
