"""PyTorch reference outputs for parity.test.ts, from timm's own code.

Usage (Debian's python3-torch; timm's source checked out read-only outside the repository):
    node write-weights.ts /tmp/skparity        # our seeded weights + the input, as safetensors
    PYTHONPATH=<timm checkout> /usr/bin/python3 reference.py /tmp/skparity fixtures/

For each network: timm.create_model(name) loads our weights; its BatchNorm statistics are
calibrated on the parity input (one train-mode pass in float64, cumulative average), rounded to
float32; then the eval-mode outputs in float64 (model.double()) and float32: the logits, and
every SK unit's attention by forward hooks. The fixtures hold the input (input.safetensors) and,
per network, the calibrated statistics, the float64 logits, the float64 attention of the first
two inputs (stored as float32) and, in the metadata, float32's distances from float64 and a
checksum of the weights.
"""
import copy
import sys
from pathlib import Path

import numpy as np
import torch
import timm
from timm.layers.selective_kernel import SelectiveKernelAttn

sys.path.insert(0, str(Path(__file__).resolve().parents[5] / 'scripts' / 'parity'))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402  (the repository's shared helper)

ATTENTION_SAMPLES = 2  # the fixtures keep the attention of the first two inputs




def main(src, out):
    inputs, input_meta = read_safetensors(f'{src}/input.safetensors')
    write_safetensors(f'{out}/input.safetensors', inputs, input_meta)
    x = torch.from_numpy(inputs['input'])
    for name in ['skresnet18', 'skresnet50', 'skresnext50_32x4d']:
        weights, _ = read_safetensors(f'{src}/{name}.weights.safetensors')
        model = timm.create_model(name, pretrained=False)
        state = {k: torch.from_numpy(v) for k, v in weights.items()}
        model.load_state_dict(state, strict=True)
        checksum = float(sum(np.abs(weights[k].astype(np.float64)).sum() for k in ['conv1.weight', 'fc.weight']))

        # Calibrate the BatchNorm statistics on the input (float64, one pass, cumulative average).
        model64 = model.double()
        bns = [m for m in model64.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        model64.train()
        with torch.no_grad():
            model64(x.double())
        model64.eval()
        stats = {}
        for key, t in model64.state_dict().items():
            if key.endswith('running_mean') or key.endswith('running_var'):
                stats[key] = t.float().numpy()  # rounded to float32: the values every run uses
        model64.load_state_dict({k: torch.from_numpy(v).double() for k, v in stats.items()}, strict=False)
        model32 = copy.deepcopy(model64).float().eval()

        # The selection attention of every SK unit ([B, M, C, 1, 1] out of each attn), by hooks.
        attention = {64: {}, 32: {}}
        for bits, m in ((64, model64), (32, model32)):
            for unit, mod in m.named_modules():
                if isinstance(mod, SelectiveKernelAttn):
                    def hook(_m, _i, out, unit=unit[: -len('.attn')], bits=bits):
                        attention[bits][unit] = out.double().reshape(out.shape[0], out.shape[1], out.shape[2])
                    mod.register_forward_hook(hook)
        with torch.no_grad():
            y64 = model64(x.double()).numpy()
            y32 = model32(x.float()).double().numpy()
        attn32 = max(float((attention[32][u] - a).abs().max()) for u, a in attention[64].items())
        samples = {f'attention.{u}': a[:ATTENTION_SAMPLES].float().numpy() for u, a in attention[64].items()}
        scale = float(np.abs(y64).max())
        rel32 = float(np.abs(y32 - y64).max() / scale)
        print(f'{name}: max|y64| {scale:.4g}, float32 vs float64 {rel32:.3e} (relative to max|y64|); '
              f'attention of {len(samples)} units, float32 vs float64 {attn32:.3e}')
        write_safetensors(
            f'{out}/{name}.safetensors',
            {'logits64': y64, **samples, **stats},
            {
                'timm_commit': 'aa4b5850c1543fa488abf260f18390eda46cf85d',
                'torch': torch.__version__,
                'float32_relative_distance': repr(rel32),
                'attention_float32_distance': repr(attn32),
                'attention_samples': str(ATTENTION_SAMPLES),
                'weights_checksum': repr(checksum),
            },
        )


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
