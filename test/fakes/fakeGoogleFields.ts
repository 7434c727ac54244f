/**
 * Google field masks: the `fields` system parameter (`sheets(properties(sheetId,title)),spreadsheetId`,
 * `sheets.properties.title`, `sheets/properties/title`, `*`) that trims a response, and the `fields`
 * of update requests (`userEnteredFormat.backgroundColor,note`) that says which parts of a CellData
 * or a resource to write.
 */
import type { Json, JsonObject } from './fakeGoogleModel.js';

/** `true` means the whole value at that path. */
export type FieldTree = Map<string, FieldTree | true>;

export class FieldMaskError extends Error {}

export function parseFieldMask(text: string): FieldTree {
  let i = 0;
  const s = text.replace(/\s+/g, '');
  function parseList(): FieldTree {
    const tree: FieldTree = new Map();
    for (;;) {
      parsePath(tree);
      if (s[i] === ',') {
        i++;
        continue;
      }
      return tree;
    }
  }
  function parsePath(tree: FieldTree): void {
    const m = /^[A-Za-z_*][A-Za-z0-9_]*/.exec(s.slice(i));
    if (m === null) throw new FieldMaskError(`Invalid field selection ${s.slice(i) || text}`);
    const name = m[0];
    i += name.length;
    if (s[i] === '.' || s[i] === '/') {
      i++;
      const child = subtree(tree, name);
      if (child !== undefined) parsePath(child);
      else parsePath(new Map());
      return;
    }
    if (s[i] === '(') {
      i++;
      const inner = parseList();
      if (s[i] !== ')') throw new FieldMaskError(`Invalid field selection ${text}`);
      i++;
      const child = subtree(tree, name);
      if (child !== undefined) for (const [k, v] of inner) merge(child, k, v);
      return;
    }
    tree.set(name, true);
  }
  const tree = parseList();
  if (i !== s.length) throw new FieldMaskError(`Invalid field selection ${text}`);
  return tree;
}

function subtree(tree: FieldTree, name: string): FieldTree | undefined {
  const existing = tree.get(name);
  if (existing === true) return undefined; // already selected whole
  if (existing !== undefined) return existing;
  const child: FieldTree = new Map();
  tree.set(name, child);
  return child;
}

function merge(tree: FieldTree, key: string, value: FieldTree | true): void {
  const existing = tree.get(key);
  if (existing === undefined || value === true) tree.set(key, value);
  else if (existing !== true) for (const [k, v] of value) merge(existing, k, v);
}

/** Keeps only the selected parts of a response. */
export function applyResponseMask(value: Json, tree: FieldTree): Json {
  if (tree.has('*')) return value;
  if (Array.isArray(value)) return value.map((v) => applyResponseMask(v, tree));
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, sub] of tree) {
    const v = value[key];
    if (v === undefined) continue;
    out[key] = sub === true ? v : applyResponseMask(v, sub);
  }
  return out;
}

/**
 * Writes the selected parts of `source` into a copy of `target`: a selected path missing from the
 * source is cleared, as Sheets does for update masks.
 */
export function applyUpdateMask<T extends object>(target: T | undefined, source: object, tree: FieldTree): T {
  const out = { ...(target ?? {}) } as Record<string, unknown>;
  const src = source as Record<string, unknown>;
  if (tree.has('*')) return structuredClone(source) as T;
  for (const [key, sub] of tree) {
    const v = src[key];
    if (sub === true) {
      if (v === undefined) delete out[key];
      else out[key] = structuredClone(v);
    } else {
      const inner = applyUpdateMask(
        (out[key] as object | undefined) ?? undefined,
        v !== null && typeof v === 'object' ? v : {},
        sub,
      ) as Record<string, unknown>;
      if (Object.keys(inner).length === 0) delete out[key];
      else out[key] = inner;
    }
  }
  return out as T;
}

export function topLevelKeys(tree: FieldTree): string[] {
  return [...tree.keys()];
}
