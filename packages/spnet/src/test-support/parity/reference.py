"""PyTorch reference outputs for parity.test.ts, from SPNet's own code.

Usage (Debian's python3-torch; Andrew-Qibin/SPNet checked out read-only outside the repository,
its models/ directory importable; nothing of it is copied here):
    node src/test-support/parity/write-weights.ts /tmp/spparity   # our seeded weights + inputs
    PYTHONPATH=<SPNet checkout> /usr/bin/python3 reference.py /tmp/spparity fixtures/

The reference classes are built directly on the CPU with plain nn.BatchNorm2d (the reference's
test script wraps them in DataParallel(...).cuda(); training used SyncBatchNorm, same keys):
models/resnet.py SPBlock(16, 16), models/customize.py StripPooling(32, (20, 12)) with
models/base.py's up_kwargs (bilinear, align_corners=True), models/spnet.py
SPNet(nclass=8, backbone='resnet50', aux=False, spm_on=True), at 1x3x97x129 and (for the
Chromium run) 1x3x33x41.

For each case: our weights are loaded by key; the BatchNorm statistics are calibrated on the
input (one train-mode pass in float64, cumulative average; for SPNet through base_forward and
the head, as its train-mode forward needs a loss), rounded to float32; then the eval-mode
outputs in float64 (model.double()) and float32, and the outputs of the named modules by
forward hooks. The fixtures hold the inputs (input.safetensors) and, per case, the calibrated
statistics, the float64 output (the network's rounded to float32 to keep the file small: a
relative change of at most 6e-8), the float64 captured outputs, and in the metadata float32
PyTorch's distances from float64 and our weights' checksum.
"""
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from models.base import up_kwargs
from models.customize import StripPooling
from models.resnet import SPBlock
from models.spnet import SPNet

sys.path.insert(0, str(Path(__file__).resolve().parents[5] / 'scripts' / 'parity'))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402  (the repository's shared helper)

NCLASS = 8
CAPTURED = {
    'spblock': ['pool1', 'pool2'],
    'strip_pooling': ['pool1', 'pool2', 'pool3', 'pool4'],
    'spnet50': ['pretrained.layer2.3.spm', 'pretrained.layer2.3.spm.pool1', 'pretrained.layer2.3.spm.pool2'],
    'spnet50_small': ['pretrained.layer4.2.spm'],
}




def build(name):
    if name == 'spblock':
        return SPBlock(16, 16, norm_layer=nn.BatchNorm2d)
    if name == 'strip_pooling':
        return StripPooling(32, (20, 12), nn.BatchNorm2d, up_kwargs)
    if name.startswith('spnet50'):
        return SPNet(nclass=NCLASS, backbone='resnet50', pretrained=None, aux=False, spm_on=True)
    raise ValueError(name)


def train_pass(name, model, x):
    if name.startswith('spnet50'):
        return model.head(model.base_forward(x)[3])
    return model(x)


def calibrated(name, weights, x):
    """The reference model with our weights and BN statistics calibrated on x (float64)."""
    model = build(name)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    assert not unexpected, unexpected
    assert all(k.endswith('num_batches_tracked') for k in missing), missing
    model64 = model.double()
    for m in model64.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model64.train()
    for m in model64.modules():
        if isinstance(m, nn.Dropout2d):
            m.eval()  # after the last BatchNorm in both heads; off for a clean pass all the same
    with torch.no_grad():
        train_pass(name, model64, x.double())
    model64.eval()
    stats = {}
    for key, t in model64.state_dict().items():
        if key.endswith('running_mean') or key.endswith('running_var'):
            stats[key] = t.float().numpy()  # rounded to float32: the values every run uses
    model64.load_state_dict({k: torch.from_numpy(v).double() for k, v in stats.items()}, strict=False)
    return model64, stats


def run(model, x, names):
    """Eval-mode output and the named modules' outputs (float64 numpy)."""
    captured = {}
    modules = dict(model.named_modules())
    handles = []
    for n in names:
        def hook(_m, _i, out, n=n):
            captured[n] = out.detach().double().numpy().copy()
        handles.append(modules[n].register_forward_hook(hook))
    with torch.no_grad():
        y = model(x).double().numpy()
    for h in handles:
        h.remove()
    return y, captured


def main(src, out):
    inputs, input_meta = read_safetensors(f'{src}/input.safetensors')
    checksums = json.loads(input_meta['checksums'])
    write_safetensors(f'{out}/input.safetensors', inputs, {})
    for name, names in CAPTURED.items():
        weights, _ = read_safetensors(f'{src}/{name}.weights.safetensors')
        x = torch.from_numpy(inputs[name])
        model64, stats = calibrated(name, weights, x)
        model32 = copy.deepcopy(model64).float().eval()
        y64, c64 = run(model64, x.double(), names)
        y32, c32 = run(model32, x.float(), names)
        scale = float(np.abs(y64).max())
        rel32 = float(np.abs(y32 - y64).max() / scale)
        cap32 = max(float(np.abs(c32[n] - c64[n]).max()) for n in names)
        print(f'{name}: output {list(y64.shape)}, max|y64| {scale:.4g}, float32 vs float64 {rel32:.3e} '
              f'(relative to max|y64|); captured {names}: float32 vs float64 {cap32:.3e}')
        network = name.startswith('spnet50')
        tensors = {'output64': y64.astype(np.float32) if network else y64}
        for n in names:
            tensors[f'captured.{n}'] = c64[n].astype(np.float32) if network and n.endswith('spm') else c64[n]
        tensors.update(stats)
        write_safetensors(
            f'{out}/{name}.safetensors',
            tensors,
            {
                'spnet_commit': '5e97da3d055449b7a159cd1d4f333c1cc3b6f8d6',
                'torch': torch.__version__,
                'float32_relative_distance': repr(rel32),
                'captured_float32_distance': repr(cap32),
                'weights_checksum': checksums[name],
            },
        )


if __name__ == '__main__':
    torch.set_num_threads(2)
    main(sys.argv[1], sys.argv[2])
