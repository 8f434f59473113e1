#!/usr/bin/python3
# Golden fixtures for the recurrent layers, made by real PyTorch (Debian's python3-torch,
# /usr/bin/python3). For each case it writes
#   tests/fixtures/torch/<case>.safetensors           the state_dict of an nn.LSTM/GRU/RNN
#                                                      (batch_first) + nn.Linear module
#   tests/fixtures/torch/<case>.expected.safetensors  inputs, targets, PyTorch's outputs and loss,
#                                                      and every weight after one SGD step
# and tests/fixtures/torch/cases.json (the neurite topology of each case). The files are small
# and committed, so CI never needs torch. Run: /usr/bin/python3 scripts/make-recurrent-fixtures.py
import json
import os

import torch
from torch import nn

from torch_safetensors import write_safetensors

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'torch')
LR = 0.5


class Net(nn.Module):
    def __init__(self, cell, features, units, outputs, seq2seq, nonlinearity):
        super().__init__()
        kinds = {'lstm': nn.LSTM, 'gru': nn.GRU, 'simpleRnn': nn.RNN}
        extra = {'nonlinearity': nonlinearity} if cell == 'simpleRnn' else {}
        self.rnn = kinds[cell](features, units, batch_first=True, **extra)
        self.fc = nn.Linear(units, outputs)
        self.seq2seq = seq2seq

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y if self.seq2seq else y[:, -1, :])


CASES = [
    # name, cell, batch, steps, features, units, outputs, seq2seq, nonlinearity
    ('lstm-seq2one', 'lstm', 4, 7, 3, 5, 2, False, None),
    ('lstm-seq2seq', 'lstm', 3, 6, 2, 9, 4, True, None),
    ('gru-seq2one', 'gru', 4, 7, 3, 5, 2, False, None),
    ('gru-seq2seq', 'gru', 3, 6, 2, 9, 4, True, None),
    ('rnn-seq2one', 'simpleRnn', 4, 7, 3, 5, 1, False, 'tanh'),
    ('rnn-seq2seq', 'simpleRnn', 3, 6, 2, 8, 3, True, 'relu'),
]


def main():
    torch.manual_seed(20261201)
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for name, cell, batch, steps, features, units, outputs, seq2seq, nl in CASES:
        net = Net(cell, features, units, outputs, seq2seq, nl)
        x = torch.randn(batch, steps, features)
        logits = net(x)
        if seq2seq:
            labels = torch.randint(0, outputs, (batch, steps))
            loss = nn.functional.cross_entropy(logits.reshape(-1, outputs), labels.reshape(-1))
            expected = torch.softmax(logits, dim=-1)
            target = labels.to(torch.float32)
        else:
            target = torch.randn(batch, outputs)
            loss = nn.functional.mse_loss(logits, target)
            expected = logits
        before = {k: v.clone() for k, v in net.state_dict().items()}
        write_safetensors(os.path.join(OUT, f'{name}.safetensors'), before)
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= LR * p.grad
        tensors = {'x': x, 'target': target, 'output': expected.detach(), 'loss': loss.detach().reshape(1)}
        for k, v in net.state_dict().items():
            tensors[f'after.{k}'] = v
        write_safetensors(os.path.join(OUT, f'{name}.expected.safetensors'), tensors)
        rnn = {'type': cell, 'name': 'rnn', 'units': units, 'returnSequences': seq2seq}
        if cell == 'simpleRnn':
            rnn['activation'] = nl
        fc = {'type': 'dense', 'name': 'fc', 'units': outputs, 'activation': 'softmax' if seq2seq else 'linear'}
        manifest[name] = {
            'inputShape': [steps, features],
            'layers': [rnn, fc],
            'loss': 'categoricalCrossentropy' if seq2seq else 'mse',
            'learningRate': LR,
        }
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': manifest}, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
