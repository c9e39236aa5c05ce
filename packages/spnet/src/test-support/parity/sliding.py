"""Reference probabilities for sliding.test.ts: SPNet's own test-time routine on a small image.

Usage (after reference.py, with the same weights directory):
    PYTHONPATH=<SPNet checkout> /usr/bin/python3 sliding.py /tmp/spparity fixtures/

The network is the parity SPNet-50 (8 classes; our seeded weights, the statistics calibrated by
reference.py's `calibrated`). The routine is tool/test.py's own `scale_process` (with its
`net_process`: mean padding, windows every ceil(crop * 2/3), flip pairs, align_corners
upsampling, softmax, count averaging, cv2.resize back), called for each scale on the image
resized as tool/test.py's `test` does (long side round(scale * base_size), cv2 INTER_LINEAR),
the scales averaged. `net_process` moves its batch with `.cuda()`: on this CPU-only run,
Tensor.cuda is replaced by `.double()` (the float64 truth) or by the identity (float32).
Settings kept small so that the test is quick: base_size 80, crop 48 x 48, scales 0.75 and 1.0,
on a 61 x 83 image (seeded). The fixture holds the image, the float64 probabilities and, in the
metadata, the float32 routine's distance from them.
"""
import copy
import json
import sys

import numpy as np
import torch
import cv2

from tool.test import scale_process
from reference import calibrated, read_safetensors, write_safetensors

BASE_SIZE = 80
CROP = 48
SCALES = [0.75, 1.0]
MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
STD = [0.229 * 255, 0.224 * 255, 0.225 * 255]
H, W = 61, 83


def image():
    rng = np.random.default_rng(14)
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([128 + 70 * np.sin(x / 7.0), 120 + 60 * np.cos(y / 5.0), 100 + 40 * np.sin((x + y) / 9.0)], 2)
    return np.clip(np.round(base + rng.normal(0, 25, base.shape)), 0, 255).astype(np.float32)


def routine(model, img):
    prediction = np.zeros((H, W, 8), dtype=float)
    for scale in SCALES:
        long_size = round(scale * BASE_SIZE)
        new_h, new_w = long_size, long_size
        if H > W:
            new_w = round(long_size / float(H) * W)
        else:
            new_h = round(long_size / float(W) * H)
        image_scale = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        prediction += scale_process(model, image_scale, 8, CROP, CROP, H, W, MEAN, STD)
    return prediction / len(SCALES)


def main(src, out):
    inputs, _ = read_safetensors(f'{src}/input.safetensors')
    weights, _ = read_safetensors(f'{src}/spnet50.weights.safetensors')
    model64, _ = calibrated('spnet50', weights, torch.from_numpy(inputs['spnet50']))
    model32 = copy.deepcopy(model64).float().eval()
    img = image()
    torch.Tensor.cuda = lambda self: self.double()
    p64 = routine(model64, img)
    torch.Tensor.cuda = lambda self: self
    p32 = routine(model32, img)
    d32 = float(np.abs(p32 - p64).max())
    top2 = np.sort(p64, axis=2)[:, :, -2:]
    margin = top2[:, :, 1] - top2[:, :, 0]
    print(f'sliding: probs {p64.shape}, float32 routine vs float64 {d32:.3e}; '
          f'labels {np.bincount(p64.argmax(2).ravel(), minlength=8).tolist()}, min top-2 margin {margin.min():.3e}')
    write_safetensors(
        f'{out}/sliding.safetensors',
        {'image': img, 'probs64': p64},
        {
            'spnet_commit': '5e97da3d055449b7a159cd1d4f333c1cc3b6f8d6',
            'torch': torch.__version__,
            'settings': json.dumps({'baseSize': BASE_SIZE, 'crop': CROP, 'scales': SCALES}),
            'float32_distance': repr(d32),
        },
    )


if __name__ == '__main__':
    torch.set_num_threads(2)
    main(sys.argv[1], sys.argv[2])
