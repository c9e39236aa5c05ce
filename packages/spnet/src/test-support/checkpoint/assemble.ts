// Reassembles a real-format SPNet training checkpoint (torch.save's zip) from layout.json (made by
// checkpoint.py from a file PyTorch wrote) and a state dict: every storage blob gets the state
// dict's values for its key, everything else (data.pkl, version) is PyTorch's, byte for byte.
import { readFileSync } from 'node:fs';
import type { Tensor } from '@kernelzoo/core';

/** What checkpoint.py recorded of the file PyTorch wrote. */
export interface CheckpointLayout {
  readonly torch: string;
  readonly entries: readonly string[];
  readonly data_pkl: string;
  readonly other_entries: Readonly<Record<string, string>>;
  readonly storages: readonly { entry: string; key: string; dtype: string; numel: number }[];
}

/** layout.json beside this file. */
export function readLayout(): CheckpointLayout {
  return JSON.parse(readFileSync(new URL('./layout.json', import.meta.url), 'utf8')) as CheckpointLayout;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A stored (uncompressed) zip of the entries, data aligned to 64 bytes as PyTorch's writer does. */
function storedZip(entries: readonly [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = enc.encode(name);
    let pad = (64 - ((offset + 30 + nameBytes.length) % 64)) % 64;
    if (pad > 0 && pad < 4) pad += 64; // an extra field needs its 4-byte header
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length + pad);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    lv.setUint16(28, pad, true);
    local.set(nameBytes, 30);
    if (pad > 0) {
      lv.setUint16(30 + nameBytes.length, 0x4246, true); // 'FB', PyTorch's padding record
      lv.setUint16(32 + nameBytes.length, pad - 4, true);
    }
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let o = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const fromBase64 = (s: string) => Uint8Array.from(Buffer.from(s, 'base64'));

/**
 * The checkpoint's bytes with `state` (keys without `module.`) in its storages; keys the
 * state dict lacks (`num_batches_tracked`, int64) hold `counter`.
 */
export function assembleCheckpoint(
  layout: CheckpointLayout,
  state: ReadonlyMap<string, Tensor>,
  counter = 1000,
): Uint8Array {
  const blobs = new Map<string, Uint8Array>();
  for (const s of layout.storages) {
    const t = state.get(s.key.replace(/^module\./, ''));
    if (s.dtype === 'float32') {
      if (!t) throw new Error(`checkpoint: no value for ${s.key}`);
      const v = t.dataSync() as Float32Array;
      if (v.length !== s.numel)
        throw new Error(`checkpoint: ${s.key} has ${v.length} values, not ${s.numel}`);
      blobs.set(s.entry, new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));
    } else if (s.dtype === 'int64') {
      blobs.set(s.entry, new Uint8Array(new BigInt64Array(s.numel).fill(BigInt(counter)).buffer));
    } else throw new Error(`checkpoint: unexpected dtype ${s.dtype} of ${s.key}`);
  }
  const pkl = layout.entries.find((e) => e.endsWith('/data.pkl'))!;
  return storedZip(
    layout.entries.map((e): [string, Uint8Array] => {
      if (e === pkl) return [e, fromBase64(layout.data_pkl)];
      const other = layout.other_entries[e];
      if (other !== undefined) return [e, fromBase64(other)];
      const b = blobs.get(e);
      if (!b) throw new Error(`checkpoint: no bytes for entry ${e}`);
      return [e, b];
    }),
  );
}
