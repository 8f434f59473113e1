# write_safetensors for the PyTorch fixture scripts (Debian's python3-torch has no safetensors
# package): an 8-byte header length, the JSON header padded to 8 bytes, then the raw tensors.
# F32 and I64 (PyTorch's counters) are kept; any other dtype is written as F32.
import json
import struct

import torch

DTYPES = {torch.float32: 'F32', torch.int64: 'I64'}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype not in DTYPES:
            t = t.to(torch.float32)
        data = t.numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(',', ':')).encode()
    raw += b' ' * (-len(raw) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
