"""The layout of a real SPNet training checkpoint, for checkpoint.test.ts.

Usage (Debian's python3-torch; Andrew-Qibin/SPNet's models/ importable, read-only, outside the
repository):
    PYTHONPATH=<SPNet checkout> /usr/bin/python3 checkpoint.py layout.json

tool/train.py saves {'epoch', 'state_dict', 'optimizer'} with torch.save, the model wrapped for
multi-GPU training (every key 'module.'-prefixed) and SGD over two parameter groups
(modules_ori = [pretrained], modules_new = [head, auxlayer], the second at 10 x lr). This script
does the same with SPNet-50 for ADE20K (150 classes, aux head built, spm_on), the model wrapped
in nn.DataParallel on the CPU (same 'module.' keys), into a file named like train.py's
(train_epoch_120.pth), with the optimizer's state as it is before the first step (no momentum
buffers: the file stays one copy of the weights).

A committed copy of the 190 MB file would be far too large, and its tensor bytes are only
storage blobs: layout.json keeps everything else — the zip's entry names in order, the pickled
data.pkl byte for byte (base64), and which state-dict key, dtype and size each storage blob
holds. The test writes our seeded weights into those blobs and reassembles the zip.
"""
import base64
import json
import sys
import zipfile

import torch
import torch.nn as nn

from models.spnet import SPNet


def main(out):
    model = SPNet(nclass=150, backbone='resnet50', pretrained=None, aux=True, spm_on=True)
    params_list = [dict(params=model.pretrained.parameters(), lr=0.01)]
    for module in [model.head, model.auxlayer]:
        params_list.append(dict(params=module.parameters(), lr=0.1))
    optimizer = torch.optim.SGD(params_list, lr=0.01, momentum=0.9, weight_decay=0.0001)
    wrapped = nn.DataParallel(model)
    state = wrapped.state_dict()
    path = '/tmp/train_epoch_120.pth'
    torch.save({'epoch': 120, 'state_dict': state, 'optimizer': optimizer.state_dict()}, path)

    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        root = names[0].split('/')[0]
        data_pkl = z.read(f'{root}/data.pkl')
        others = {n: base64.b64encode(z.read(n)).decode() for n in names
                  if '/data/' not in n and not n.endswith('data.pkl')}
        storages = []
        # torch.save numbers storages in the order the pickler meets them: the state dict's order.
        for i, (key, t) in enumerate(state.items()):
            info = z.getinfo(f'{root}/data/{i}')
            assert info.file_size == t.numel() * t.element_size(), key
            storages.append({'entry': f'{root}/data/{i}', 'key': key, 'dtype': str(t.dtype).replace('torch.', ''),
                             'numel': t.numel()})
        assert len(storages) == sum(1 for n in names if '/data/' in n)
    reloaded = torch.load(path)
    assert list(reloaded.keys()) == ['epoch', 'state_dict', 'optimizer']
    layout = {
        'torch': torch.__version__,
        'spnet_commit': '5e97da3d055449b7a159cd1d4f333c1cc3b6f8d6',
        'entries': names,
        'data_pkl': base64.b64encode(data_pkl).decode(),
        'other_entries': others,
        'storages': storages,
    }
    with open(out, 'w') as f:
        json.dump(layout, f, indent=0)
    aux = [s['key'] for s in storages if s['key'].startswith('module.auxlayer.')]
    print(f'{len(names)} entries, {len(storages)} storages, data.pkl {len(data_pkl)} bytes; aux keys {aux}')


if __name__ == '__main__':
    main(sys.argv[1])
