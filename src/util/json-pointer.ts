/**
 * JSON Pointer (RFC 6901): the one reader and writer of pointers for the catalogue's
 * ordering keys, validation errors and conformance steps.
 */

/** A syntax error in a JSONPath or JSON Pointer, or a write a pointer may not make; `offset` is the position in the expression. */
export class JsonQueryError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'JsonQueryError';
  }
}

/** Segments a write through a pointer refuses: through them a document could reach `Object.prototype`. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const INDEX = /^(0|[1-9]\d*)$/;

/**
 * Checks a JSON Pointer's syntax (RFC 6901): empty, or `/`-separated tokens where `~` is
 * only followed by `0` or `1`.
 *
 * @throws JsonQueryError
 */
export function checkPointer(pointer: string): void {
  if (pointer !== '' && !pointer.startsWith('/')) throw new JsonQueryError('a JSON Pointer is empty or starts with "/"', 0);
  const bad = /~(?![01])/.exec(pointer);
  if (bad) throw new JsonQueryError('"~" must be followed by 0 or 1 in a JSON Pointer', bad.index);
}

/** Escapes one reference token (`~` → `~0`, `/` → `~1`). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Splits a pointer into its unescaped tokens. @throws JsonQueryError on bad syntax */
export function pointerTokens(pointer: string): string[] {
  checkPointer(pointer);
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Builds a pointer from tokens. */
export function encodePointer(tokens: readonly string[]): string {
  return tokens.map((t) => '/' + escapePointerToken(t)).join('');
}

/** The value at `pointer`, or `undefined` when any part is missing (own properties only). */
export function getPointer(value: unknown, pointer: string): unknown {
  let node: unknown = value;
  for (const t of pointerTokens(pointer)) {
    if (Array.isArray(node)) {
      if (!INDEX.test(t)) return undefined;
      node = node[Number(t)];
    } else if (node && typeof node === 'object') {
      if (!Object.prototype.hasOwnProperty.call(node, t)) return undefined;
      node = (node as Record<string, unknown>)[t];
    } else {
      return undefined;
    }
  }
  return node;
}

/**
 * Sets the value at `pointer` in place, creating objects for missing parents; `-` appends to
 * an array. Setting the root is refused, and so is any `__proto__`, `constructor` or
 * `prototype` segment.
 *
 * @throws JsonQueryError when a segment is forbidden, a parent is not a container or an array index is out of range
 */
export function setPointer(target: unknown, pointer: string, value: unknown): void {
  const tokens = pointerTokens(pointer);
  if (!tokens.length) throw new JsonQueryError('cannot replace the whole document through a pointer', 0);
  const forbidden = tokens.findIndex((t) => FORBIDDEN_SEGMENTS.has(t));
  if (forbidden >= 0) throw new JsonQueryError(`"${tokens[forbidden]}" may not be written through a pointer`, encodePointer(tokens.slice(0, forbidden)).length);
  let node: unknown = target;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    const last = k === tokens.length - 1;
    if (Array.isArray(node)) {
      const idx = t === '-' ? node.length : INDEX.test(t) ? Number(t) : NaN;
      if (!(idx >= 0 && idx <= node.length)) throw new JsonQueryError(`"${t}" is not an index of the array at ${encodePointer(tokens.slice(0, k))}`, 0);
      if (last) node[idx] = value;
      else node = node[idx] ??= {};
    } else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (last) o[t] = value;
      else {
        if (!Object.prototype.hasOwnProperty.call(o, t) || o[t] === null || typeof o[t] !== 'object') o[t] = {};
        node = o[t];
      }
    } else {
      throw new JsonQueryError(`${encodePointer(tokens.slice(0, k)) || 'the document'} is not an object or array`, 0);
    }
  }
}

/** Removes the value at `pointer` if present. */
export function removePointer(target: unknown, pointer: string): void {
  const tokens = pointerTokens(pointer);
  if (!tokens.length) return;
  const parent = getPointer(target, encodePointer(tokens.slice(0, -1)));
  const t = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    if (INDEX.test(t) && Number(t) < parent.length) parent.splice(Number(t), 1);
  } else if (parent && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, t)) {
    Reflect.deleteProperty(parent, t);
  }
}
