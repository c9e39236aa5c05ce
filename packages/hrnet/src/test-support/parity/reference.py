"""PyTorch reference outputs for parity.test.ts, from the HRNet authors' own code.

Usage (Debian's python3-torch 1.13, numpy, PyYAML, cv2; the three reference repositories checked
out read-only outside this repository, at the commits below — for the segmentation one that is
the head of its HRNet-OCR branch):
    node write-weights.ts /tmp/hrparity       # our seeded weights + the inputs, as safetensors
    /usr/bin/python3 reference.py /tmp/hrparity fixtures/ \\
        <deep-high-resolution-net.pytorch> <HRNet-Image-Classification> <HRNet-Semantic-Segmentation>

The reference code runs unmodified, loaded from the checkouts:
  * leoxiaobin/deep-high-resolution-net.pytorch @ 6f69e467: lib/models/pose_hrnet.py
    (PoseHighResolutionNet, HighResolutionModule), lib/core/inference.py (get_final_preds),
    lib/utils/transforms.py (flip_back); config experiments/coco/hrnet/w32_256x192_adam_lr1e-3.yaml.
  * HRNet/HRNet-Image-Classification @ f760c988: lib/models/cls_hrnet.py (HighResolutionNet);
    config experiments/cls_hrnet_w18_sgd_lr5e-2_wd1e-4_bs32_x100.yaml.
  * HRNet/HRNet-Semantic-Segmentation @ 0bbb2880 (HRNet-OCR branch): lib/models/seg_hrnet.py
    (HighResolutionNet); config experiments/cityscapes/seg_hrnet_w48_train_512x1024_sgd_lr1e-2_
    wd5e-4_bs_12_epoch484.yaml (ALIGN_CORNERS False, 19 classes). Its lib/models/bn_helper.py
    picks SyncBatchNorm, which refuses to run on CPU in torch 1.x: only that helper is replaced,
    by plain nn.BatchNorm2d (same parameters and buffers, same eval arithmetic). numpy >= 1.24
    lacks np.int, which seg_hrnet.py calls once: it is aliased to int.
The yaml configs are read with PyYAML into a dict that also allows attribute access (yacs's
CfgNode does both; yacs is not needed for these fields).

For each case: the reference model loads our weights by key (strictly but for
num_batches_tracked); its BatchNorm statistics are calibrated on the parity input (one
train-mode pass in float64, cumulative average) and rounded to float32; then the eval-mode
outputs in float64 (model.double()) and float32. Cases:
  * hr_module: pose_hrnet.py's HighResolutionModule, 3 branches of BASIC blocks [2, 2, 2],
    inchannels [8, 16, 24], channels [8, 16, 32] (branch 2 has a downsample), multi-scale output,
    inputs [2, C_b, 16 / 2^b, 16 / 2^b]; outputs: the three fused maps.
  * pose_hrnet_w32 (17 heatmaps, input 1x3x64x64 -> 16x16), cls_hrnet_w18 (1000 logits,
    1x3x64x64), seg_hrnet_w48 (19 classes at 1/4, input 1x3x72x120: the low branches are 5x8 and
    3x4, so the exact-size bilinear fusion is exercised off the power-of-two grid).
  * pose decoding: get_final_preds (TEST.POST_PROCESS true) on the float64 heatmaps and on the
    flip test's average (validate() in lib/core/function.py: model on input.flip(3), flip_back
    with the COCO pairs, SHIFT_HEATMAP, (output + flipped) * 0.5), for a fixed centre/scale;
    plus each joint's decision margin (decision_margins: half the gap between its map's maximum
    and runner-up, or half the |neighbour difference| whose sign moved the coordinate, whichever
    is smaller) and how many joints float32 PyTorch's own decoding moves (0 here).
The fixtures hold the inputs (input.safetensors) and, per case, the calibrated statistics, the
float64 outputs and, in the metadata, float32's distance from float64 (max |y32 - y64| / max |y64|,
the largest over a case's outputs) and a checksum of the weights (sum |w| in float64 over the
reference's first and last conv weights, whose keys it names). Conv weights are never stored:
the tests rebuild them from the seeds. The committed fixtures were made with the checkouts at the
commits above and regenerate byte for byte.
"""
import copy
import importlib.util
import json
import sys
from pathlib import Path
import types

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[5] / 'scripts' / 'parity'))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402  (the repository's shared helper)

COMMITS = {
    'pose': '6f69e4676ad8d43d0d61b64b1b9726f0c369e7b1',
    'cls': 'f760c988482cdb8a1f69b10b219d669721144582',
    'seg': '0bbb2880446ddff2d78f8dd7e8c4c610151d5a51',
}
POSE_YAML = 'experiments/coco/hrnet/w32_256x192_adam_lr1e-3.yaml'
CLS_YAML = 'experiments/cls_hrnet_w18_sgd_lr5e-2_wd1e-4_bs32_x100.yaml'
SEG_YAML = 'experiments/cityscapes/seg_hrnet_w48_train_512x1024_sgd_lr1e-2_wd5e-4_bs_12_epoch484.yaml'

# The HighResolutionModule case (mirrored by networks.ts).
MODULE_BLOCKS = [2, 2, 2]
MODULE_INCHANNELS = [8, 16, 24]
MODULE_CHANNELS = [8, 16, 32]

# The person box of the decoding check: centre and scale (pixel_std units) as _box2cs gives
# them for box (40, 30, 120, 160) at an input aspect ratio of 1 (64x64): w < h, so w := h;
# scale = (160, 160) / 200 * 1.25.
POSE_CENTER = [100.0, 110.0]
POSE_SCALE = [1.0, 1.0]
COCO_FLIP_PAIRS = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]]



class Cfg(dict):
    """A yaml mapping with attribute access too (what the reference reads of yacs's CfgNode)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e


def to_cfg(v):
    if isinstance(v, dict):
        return Cfg({k: to_cfg(x) for k, x in v.items()})
    if isinstance(v, list):
        return [to_cfg(x) for x in v]
    return v


def load_cfg(path):
    with open(path) as f:
        return to_cfg(yaml.safe_load(f))


def load_module(name, path, package=None):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    if package:
        mod.__package__ = package
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_references(pose_root, cls_root, seg_root):
    if not hasattr(np, 'int'):
        np.int = int  # seg_hrnet.py's np.int(np.sum(...)); removed in numpy 1.24
    pose = load_module('ref_pose_hrnet', f'{pose_root}/lib/models/pose_hrnet.py')
    cls = load_module('ref_cls_hrnet', f'{cls_root}/lib/models/cls_hrnet.py')
    # seg_hrnet.py does `from .bn_helper import BatchNorm2d, BatchNorm2d_class, relu_inplace`:
    # a package whose bn_helper is plain BatchNorm2d (the torch >= 1 branch, minus SyncBatchNorm).
    pkg = types.ModuleType('ref_seg')
    pkg.__path__ = []
    sys.modules['ref_seg'] = pkg
    helper = types.ModuleType('ref_seg.bn_helper')
    helper.BatchNorm2d = helper.BatchNorm2d_class = torch.nn.BatchNorm2d
    helper.relu_inplace = True
    sys.modules['ref_seg.bn_helper'] = helper
    seg = load_module('ref_seg.seg_hrnet', f'{seg_root}/lib/models/seg_hrnet.py', package='ref_seg')
    sys.path.insert(0, f'{pose_root}/lib')
    from core.inference import get_final_preds  # noqa: E402 (needs the reference's lib on sys.path)
    from utils.transforms import flip_back  # noqa: E402
    return pose, cls, seg, get_final_preds, flip_back


def checksum_keys(model):
    """The reference's first and last convolution weights (state-dict order)."""
    convs = [k for k, v in model.state_dict().items() if k.endswith('weight') and v.ndim == 4]
    return [convs[0], convs[-1]]


def checksum(weights, keys):
    return float(sum(np.abs(weights[k].astype(np.float64)).sum() for k in keys))


def load_weights(model, weights):
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith('num_batches_tracked')]
    if missing or unexpected:
        raise SystemExit(f'weights do not match the reference: missing {missing}, unexpected {unexpected}')


def cast(inputs, dtype):
    """Copies of the inputs (a list of tensors or of lists of tensors) in `dtype`."""
    return [[t.to(dtype) for t in a] if isinstance(a, list) else a.to(dtype) for a in inputs]


def calibrate(model, inputs):
    """BatchNorm statistics from one train-mode float64 pass (cumulative average), rounded to
    float32. Returns (model64, model32, stats)."""
    model64 = model.double()
    for m in model64.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model64.train()
    with torch.no_grad():
        model64(*cast(inputs, torch.float64))
    model64.eval()
    stats = {}
    for key, t in model64.state_dict().items():
        if key.endswith('running_mean') or key.endswith('running_var'):
            stats[key] = t.float().numpy()
    model64.load_state_dict({k: torch.from_numpy(v).double() for k, v in stats.items()}, strict=False)
    model32 = copy.deepcopy(model64).float().eval()
    return model64, model32, stats


def relative(y32, y64):
    return float(np.abs(y32 - y64).max() / np.abs(y64).max())


def decision_margins(hm, cfg):
    """Per map ([N, J]): the smallest change of its values that could change get_final_preds'
    coordinates — half the gap between the maximum and the runner-up, half the maximum when the
    map's maximum decides the zeroing (<= 0), and half of |neighbour difference| wherever its sign
    moves the coordinate (TEST.POST_PROCESS). A change of every value by less than this leaves
    the decoded coordinates as they are."""
    n, j, h, w = hm.shape
    margins = np.zeros((n, j))
    for a in range(n):
        for b in range(j):
            m = hm[a, b]
            flat = np.sort(m.ravel())[::-1]
            margin = (flat[0] - flat[1]) / 2
            idx = int(np.argmax(m))
            px, py = idx % w, idx // w
            margin = min(margin, abs(flat[0]) / 2)
            if flat[0] > 0 and cfg.TEST.POST_PROCESS and 1 < px < w - 1 and 1 < py < h - 1:
                margin = min(margin, abs(m[py][px + 1] - m[py][px - 1]) / 2, abs(m[py + 1][px] - m[py - 1][px]) / 2)
            margins[a, b] = margin
    return margins


def main(src, out, pose_root, cls_root, seg_root):
    pose, cls, seg, get_final_preds, flip_back = load_references(pose_root, cls_root, seg_root)
    inputs, input_meta = read_safetensors(f'{src}/input.safetensors')
    write_safetensors(f'{out}/input.safetensors', inputs, input_meta)
    base_meta = {'torch': torch.__version__, **{f'{k}_commit': v for k, v in COMMITS.items()}}

    def run_case(name, model, x, outputs):
        """Loads `name`'s weights, calibrates on `x` (a list of inputs), writes the fixture with
        `outputs(model, x) -> {key: array}`; returns the float64 and float32 outputs, the
        statistics and the fixture's metadata."""
        weights, _ = read_safetensors(f'{src}/{name}.weights.safetensors')
        load_weights(model, weights)
        keys = checksum_keys(model)
        model64, model32, stats = calibrate(model, x)
        with torch.no_grad():
            y64 = outputs(model64, cast(x, torch.float64))
            y32 = outputs(model32, cast(x, torch.float32))
        rel32 = max(relative(y32[k], y64[k]) for k in y64)
        scale = max(float(np.abs(v).max()) for v in y64.values())
        print(f'{name}: {", ".join(f"{k} {list(v.shape)}" for k, v in y64.items())}; max|y64| {scale:.4g}; '
              f'float32 vs float64 {rel32:.3e} (relative); {len(stats)} BN statistics')
        return y64, y32, stats, {
            **base_meta,
            'float32_relative_distance': repr(rel32),
            'weights_checksum': repr(checksum(weights, keys)),
            'weights_checksum_keys': json.dumps(keys),
        }

    # --- HighResolutionModule (pose_hrnet.py's: nearest upsampling), 3 branches.
    module = pose.HighResolutionModule(
        3, pose.BasicBlock, MODULE_BLOCKS, list(MODULE_INCHANNELS), MODULE_CHANNELS, 'SUM', True)
    xs = [torch.from_numpy(inputs[f'hr_module.{b}']) for b in range(3)]
    y64, _, stats, meta = run_case(
        'hr_module', module, [xs],
        lambda m, x: {f'output.{b}': y.numpy() for b, y in enumerate(m(x[0]))})
    write_safetensors(f'{out}/hr_module.safetensors', {**{f'{k}64': v for k, v in y64.items()}, **stats}, meta)

    # --- Pose W32: heatmaps, and the decoding of the plain and flip-test heatmaps.
    pose_cfg = load_cfg(f'{pose_root}/{POSE_YAML}')
    x = torch.from_numpy(inputs['pose_hrnet_w32'])
    net = pose.PoseHighResolutionNet(pose_cfg)

    def pose_outputs(m, x):
        hm = m(x[0])
        flipped = flip_back(m(x[0].flip(3)).numpy(), COCO_FLIP_PAIRS)
        flipped = torch.from_numpy(flipped.copy())
        flipped[:, :, :, 1:] = flipped.clone()[:, :, :, 0:-1]  # TEST.SHIFT_HEATMAP
        return {'heatmaps': hm.numpy(), 'flip_average': ((hm + flipped) * 0.5).numpy()}

    y64, y32, stats, meta = run_case('pose_hrnet_w32', net, [x], pose_outputs)
    center = np.array([POSE_CENTER], dtype=np.float32)
    scale = np.array([POSE_SCALE], dtype=np.float32)
    decoded = {}
    for k in ('heatmaps', 'flip_average'):
        preds, maxvals = get_final_preds(pose_cfg, y64[k].copy(), center, scale)
        preds32, _ = get_final_preds(pose_cfg, y32[k].copy(), center, scale)
        margins = decision_margins(y64[k], pose_cfg)
        decoded[f'{k}.preds'] = np.asarray(preds, dtype=np.float64)
        decoded[f'{k}.maxvals'] = np.asarray(maxvals, dtype=np.float64)
        decoded[f'{k}.margins'] = margins
        # float32 PyTorch's own decoding against float64's: how many joints moved.
        moved = int((np.abs(preds32 - preds).max(axis=2) > 0).sum())
        meta[f'{k}_float32_moved_joints'] = str(moved)
        print(f'  get_final_preds on float64 {k}: decision margins min {margins.min():.3e}, '
              f'median {np.median(margins):.3e}; float32 PyTorch moves {moved} of {margins.size} joints')
    meta.update({'center': json.dumps(POSE_CENTER), 'scale': json.dumps(POSE_SCALE)})
    write_safetensors(
        f'{out}/pose_hrnet_w32.safetensors',
        {**{f'{k}64': v for k, v in y64.items()}, **decoded, **stats}, meta)

    # --- Classification W18: logits.
    cls_cfg = load_cfg(f'{cls_root}/{CLS_YAML}')
    net = cls.HighResolutionNet(cls_cfg)
    y64, _, stats, meta = run_case(
        'cls_hrnet_w18', net, [torch.from_numpy(inputs['cls_hrnet_w18'])],
        lambda m, x: {'logits': m(x[0]).numpy()})
    write_safetensors(f'{out}/cls_hrnet_w18.safetensors', {'logits64': y64['logits'], **stats}, meta)

    # --- Segmentation W48 (Cityscapes, align_corners False): logits at 1/4 resolution.
    seg_cfg = load_cfg(f'{seg_root}/{SEG_YAML}')
    assert seg_cfg.MODEL.ALIGN_CORNERS is False and seg_cfg.DATASET.NUM_CLASSES == 19
    net = seg.HighResolutionNet(seg_cfg)
    y64, _, stats, meta = run_case(
        'seg_hrnet_w48', net, [torch.from_numpy(inputs['seg_hrnet_w48'])],
        lambda m, x: {'logits': m(x[0]).numpy()})
    meta['align_corners'] = 'false'
    write_safetensors(f'{out}/seg_hrnet_w48.safetensors', {'logits64': y64['logits'], **stats}, meta)


if __name__ == '__main__':
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
