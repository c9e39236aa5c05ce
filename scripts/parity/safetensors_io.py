"""The safetensors reading and writing that the parity fixture scripts share (sknet's, spnet's
and hrnet's `src/test-support/parity/reference.py`), in plain numpy: F32, F64, I32 and I64
tensors, `__metadata__` strings, the header padded to 8 bytes. Imported by those scripts; run by
hand like them (Debian's /usr/bin/python3).
"""
import json
import struct

import numpy as np

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32, 'I64': np.int64}
CODES = {np.dtype(np.float32): 'F32', np.dtype(np.float64): 'F64'}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    base = 8 + n
    out = {}
    for key, info in header.items():
        begin, end = info['data_offsets']
        arr = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info['dtype']])
        out[key] = arr.reshape(info['shape']).copy()
    return out, meta


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    offset = 0
    blobs = []
    for key, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        b = arr.tobytes()
        header[key] = {'dtype': CODES[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
