import { escapeText, quote, WeightsError } from './errors.js';

/**
 * A global the unpickler was allowed to resolve. A callable one is applied by `REDUCE`;
 * others (like storage types) are plain markers passed around as values.
 */
export interface PyGlobal {
  /** Always `'global'`. */
  readonly kind: 'global';
  /** The Python module, e.g. `torch._utils`. */
  readonly module: string;
  /** The name in the module, e.g. `_rebuild_tensor_v2`. */
  readonly name: string;
  /** Applies the global to `REDUCE`'s arguments; absent for globals that are not callable. */
  readonly call?: (args: unknown[]) => unknown;
  /** Applies `BUILD`'s state to an object this global made; absent where BUILD is refused. */
  readonly build?: (obj: unknown, state: unknown) => unknown;
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /**
   * Resolves `module.name` to an allowed global, or returns undefined to refuse it (the
   * unpickler then throws a {@link WeightsError} naming the global).
   */
  findGlobal: (module: string, name: string) => PyGlobal | undefined;
  /** Resolves a persistent id (`BINPERSID`); throws to refuse. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Names the format in errors (default `pickle`). */
  format?: string;
  /** Names the zip entry in errors. */
  entry?: string;
  /** Added to positions in errors (where the pickle starts in its file). */
  baseOffset?: number;
  /** Where in `bytes` to start (default 0). */
  start?: number;
}

/** What {@link unpickle} returns. */
export interface UnpickleResult {
  /** The unpickled object: dicts as `Map`, tuples and lists as arrays, ints as numbers (or bigint beyond 2^53). */
  readonly value: unknown;
  /** The position just past the `STOP` opcode. */
  readonly end: number;
}

/** The longest `LONG4` integer accepted, in bytes. */
const MAX_LONG_BYTES = 64;

/**
 * The most objects (dicts, lists, tuples, strings, bytes, floats, big integers, call results)
 * one pickle may create, the deepest its stack may grow and the most memo entries it may
 * store: 2^19 (524,288) each. A state dict of HRNet-W64 with Adam's optimizer state creates
 * about 75,000. Without these bounds, 20 MB of `}` or `DUP` opcodes would hold gigabytes;
 * with them, the worst pickle holds about 160 MB of JavaScript objects.
 */
export const MAX_PICKLE_OBJECTS = 1 << 19;

/** The longest string a pickle may hold, in bytes (16 MiB; a state dict's are names). */
const MAX_STRING_BYTES = 1 << 24;

/**
 * A restricted unpickler, in the spirit of `torch.load(weights_only=True)`: it knows the
 * opcodes a state dict needs (protocols 2–4, no text opcodes), resolves only the globals
 * `findGlobal` allows, applies `REDUCE` only to those, never constructs objects with
 * `NEWOBJ`/`INST`/`OBJ`, and bounds every length by the input. Anything else is refused with
 * a {@link WeightsError} naming the opcode or global and the byte where it was found.
 * @param bytes - the pickle (or a file holding several, read from `options.start`).
 * @param options - the allowed globals, the persistent-id loader and error context.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  const format = options.format ?? 'pickle';
  const base = options.baseOffset ?? 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  let pos = options.start ?? 0;
  let opPos = pos;

  let objects = 0;
  const push = (v: unknown): void => {
    if (stack.length >= MAX_PICKLE_OBJECTS)
      fail(`the stack holds more than ${MAX_PICKLE_OBJECTS} items (a state dict needs far fewer)`);
    stack.push(v);
  };
  const made = (v: unknown): void => {
    if (++objects > MAX_PICKLE_OBJECTS)
      fail(`the pickle creates more than ${MAX_PICKLE_OBJECTS} objects (a state dict needs far fewer)`);
    push(v);
  };
  const memoize = (i: number, v: unknown): void => {
    if (!memo.has(i) && memo.size >= MAX_PICKLE_OBJECTS)
      fail(`the memo holds more than ${MAX_PICKLE_OBJECTS} entries (a state dict needs far fewer)`);
    memo.set(i, v);
  };
  const fail = (message: string): never => {
    throw new WeightsError(message, { format, entry: options.entry, offset: base + opPos });
  };
  const need = (k: number): void => {
    if (k < 0 || pos + k > n) fail(`truncated: needs ${k} more bytes but ${n - pos} remain`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getUint32(pos + 4, true) * 2 ** 32 + dv.getUint32(pos, true);
    pos += 8;
    return v;
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const v = bytes.subarray(pos, pos + k);
    pos += k;
    return v;
  };
  const text = (decoder: TextDecoder, b: Uint8Array): string => {
    if (b.length > MAX_STRING_BYTES)
      fail(`string of ${b.length} bytes (at most ${MAX_STRING_BYTES} accepted)`);
    return decoder.decode(b);
  };
  const line = (): string => {
    const nl = bytes.subarray(pos, Math.min(n, pos + 1025)).indexOf(0x0a) + pos;
    if (nl < pos) fail('unterminated text line');
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]))
      fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK to pop to');
    return stack.splice(m as number);
  };
  const signedLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const g = options.findGlobal(module, name);
    if (!g)
      fail(`global ${quote(`${module}.${name}`)} is not allowed (only the globals a state dict needs are)`);
    return g as PyGlobal;
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail(`SETITEM(S) on ${kindOf(d)}, not a dict`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (k instanceof Map || (Array.isArray(k) && !Object.isFrozen(k)))
        fail(`dict key of unhashable type ${kindOf(k)}`);
      (d as Map<unknown, unknown>).set(k, items[i + 1]);
    }
  };
  const append = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l) || Object.isFrozen(l)) fail(`APPEND(S) on ${kindOf(l)}, not a list`);
    for (const it of items) (l as unknown[]).push(it);
  };

  for (;;) {
    opPos = pos;
    if (pos >= n) fail('truncated: no STOP opcode');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP '.'
        if (stack.length !== 1 || marks.length !== 0)
          fail(`STOP with ${stack.length} items on the stack and ${marks.length} open marks`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK '('
        if (marks.length >= MAX_PICKLE_OBJECTS) fail(`more than ${MAX_PICKLE_OBJECTS} open marks`);
        marks.push(stack.length);
        break;
      case 0x30: // POP '0'
        pop();
        break;
      case 0x31: // POP_MARK '1'
        popMark();
        break;
      case 0x32: // DUP '2'
        push(top());
        break;
      case 0x4e: // NONE 'N'
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT 'J'
        need(4);
        push(dv.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1 'K'
        push(u8());
        break;
      case 0x4d: // BININT2 'M'
        push(u16());
        break;
      case 0x8a: // LONG1
        made(signedLong(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const len = dv.getInt32(pos, true);
        pos += 4;
        if (len < 0 || len > MAX_LONG_BYTES)
          fail(`LONG4 of ${len} bytes (at most ${MAX_LONG_BYTES} accepted)`);
        made(signedLong(take(len)));
        break;
      }
      case 0x47: // BINFLOAT 'G' (big-endian double)
        need(8);
        made(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE 'X'
        made(text(utf8, take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        made(text(utf8, take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        made(text(utf8, take(u64())));
        break;
      case 0x54: // BINSTRING 'T'
        made(text(latin1, take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING 'U'
        made(text(latin1, take(u8())));
        break;
      case 0x42: // BINBYTES 'B'
        made(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES 'C'
        made(take(u8()));
        break;
      case 0x8e: // BINBYTES8
        made(take(u64()));
        break;
      case 0x29: // EMPTY_TUPLE ')'
        made(Object.freeze([]));
        break;
      case 0x74: // TUPLE 't'
        made(Object.freeze(popMark()));
        break;
      case 0x85: // TUPLE1
        made(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        made(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        made(Object.freeze([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST ']'
        made([]);
        break;
      case 0x6c: // LIST 'l'
        made(popMark());
        break;
      case 0x61: {
        // APPEND 'a'
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS 'e'
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT '}'
        made(new Map());
        break;
      case 0x64: {
        // DICT 'd'
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        made(d);
        break;
      }
      case 0x73: {
        // SETITEM 's'
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS 'u'
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT 'q'
        memoize(u8(), top());
        break;
      case 0x72: // LONG_BINPUT 'r'
        memoize(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memoize(memo.size, top());
        break;
      case 0x68: // BINGET 'h'
      case 0x6a: {
        // LONG_BINGET 'j'
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} was never stored`);
        push(memo.get(i));
        break;
      }
      case 0x63: {
        // GLOBAL 'c'
        const module = line();
        const name = line();
        made(resolve(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        made(resolve(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE 'R'
        const args = pop();
        const f = pop();
        if (!isGlobal(f) || !f.call)
          fail(`REDUCE on ${describeCallable(f)}, which is not an allowed callable`);
        if (!Array.isArray(args)) fail(`REDUCE with ${kindOf(args)} arguments, not a tuple`);
        try {
          made((f as PyGlobal).call!(args as unknown[]));
        } catch (e) {
          if (e instanceof WeightsError) throw e;
          fail(`${(f as PyGlobal).module}.${(f as PyGlobal).name}: ${(e as Error).message}`);
        }
        break;
      }
      case 0x62: {
        // BUILD 'b'
        const state = pop();
        const obj = top();
        const maker = obj !== null && typeof obj === 'object' ? madeBy.get(obj) : undefined;
        if (!maker?.build) fail(`BUILD on ${kindOf(obj)} is not allowed`);
        stack[stack.length - 1] = maker!.build!(obj, state);
        break;
      }
      case 0x51: {
        // BINPERSID 'Q'
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not allowed here');
        try {
          made(options.persistentLoad!(pid));
        } catch (e) {
          if (e instanceof WeightsError) throw e;
          fail(`persistent id: ${(e as Error).message}`);
        }
        break;
      }
      default:
        fail(
          `opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''} is not allowed or unknown`,
        );
    }
  }
}

/** Objects made by a global's `call`, so `BUILD` knows who may update them. */
const madeBy = new WeakMap<object, PyGlobal>();

/**
 * Records that `obj` was made by `g`, so a later `BUILD` on it goes to `g.build`.
 * @internal
 */
export function markMadeBy<T>(obj: T, g: PyGlobal): T {
  if (obj !== null && typeof obj === 'object') madeBy.set(obj, g);
  return obj;
}

/** Whether a value is a {@link PyGlobal}. */
export function isGlobal(v: unknown): v is PyGlobal {
  return v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'global';
}

function describeCallable(v: unknown): string {
  return isGlobal(v) ? `global ${quote(`${v.module}.${v.name}`)}` : kindOf(v);
}

/**
 * A short, Python-like rendering of an unpickled value for keys and messages — `'name'`,
 * `3`, `(1, 'a')`, `[…]` — cut at `max` characters and three levels of nesting, so deep or
 * aliased tuples cost nothing to describe. Strings are returned unquoted (escaped) when
 * `bare`. @internal
 */
export function describeValue(v: unknown, max = 120, bare = false): string {
  let left = max;
  const go = (x: unknown, depth: number): string => {
    if (left <= 0) return '…';
    let s: string;
    if (typeof x === 'string') s = bare && depth === 0 ? escapeText(x, left) : quote(x, left);
    else if (typeof x === 'number' || typeof x === 'bigint') s = String(x);
    else if (typeof x === 'boolean') s = x ? 'True' : 'False';
    else if (x === null || x === undefined) s = 'None';
    else if (Array.isArray(x)) {
      const tuple = Object.isFrozen(x);
      if (depth >= 3) s = tuple ? '(…)' : '[…]';
      else {
        const parts: string[] = [];
        for (const y of x) {
          if (left <= 0 || parts.length >= 8) {
            parts.push('…');
            break;
          }
          const p = go(y, depth + 1);
          left -= p.length + 2;
          parts.push(p);
        }
        s = tuple ? `(${parts.join(', ')}${x.length === 1 ? ',' : ''})` : `[${parts.join(', ')}]`;
      }
    } else s = `<${kindOf(x)}>`;
    return s.length > max ? `${s.slice(0, max)}…` : s;
  };
  return go(v, 0);
}

/** A short description of an unpickled value's kind, for errors. @internal */
export function kindOf(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'a tuple' : 'a list';
  if (v instanceof Map) return 'a dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (isGlobal(v)) return `global ${quote(`${v.module}.${v.name}`)}`;
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
