#!/usr/bin/python3
# Golden fixture for batchNormalization, made by real PyTorch (Debian's python3-torch,
# /usr/bin/python3): a small CNN with BatchNorm2d and BatchNorm1d whose running statistics have
# been moved by a few training-mode passes, then
#   tests/fixtures/torch/batchnorm.safetensors           its state_dict (num_batches_tracked I64)
#   tests/fixtures/torch/batchnorm.expected.safetensors  inputs, labels, eval-mode outputs, the
#                                                        train-mode loss, and the whole state_dict
#                                                        after one train-mode SGD step
# The files are small and committed, so CI never needs torch.
import os

import torch
from torch import nn

from torch_safetensors import write_safetensors

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'torch')
LR = 0.3


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.bn1 = nn.BatchNorm2d(3)
        self.fc1 = nn.Linear(3 * 4 * 4, 5)
        self.bn2 = nn.BatchNorm1d(5, momentum=0.2, eps=1e-3)
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv(x)))
        x = self.bn2(self.fc1(x.flatten(1)))
        return self.fc2(x)


def main():
    torch.manual_seed(7)
    net = Net()
    with torch.no_grad():
        net.bn1.weight.uniform_(0.5, 1.5)
        net.bn1.bias.uniform_(-0.3, 0.3)
        net.bn2.weight.uniform_(0.5, 1.5)
        net.bn2.bias.uniform_(-0.3, 0.3)
        net.train()
        for _ in range(3):  # move the running statistics away from 0 and 1
            net(torch.randn(6, 2, 6, 6) * 1.5 + 0.4)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    write_safetensors(os.path.join(OUT, 'batchnorm.safetensors'), before)
    x = torch.randn(5, 2, 6, 6)
    labels = torch.tensor([0, 2, 1, 1, 0])
    net.eval()
    with torch.no_grad():
        eval_out = torch.softmax(net(x), dim=1)
    net.train()
    logits = net(x)
    loss = nn.functional.cross_entropy(logits, labels)
    net.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= LR * p.grad
    tensors = {'x': x, 'labels': labels.to(torch.float32), 'eval_output': eval_out, 'loss': loss.detach().reshape(1)}
    for k, v in net.state_dict().items():
        tensors[f'after.{k}'] = v
    write_safetensors(os.path.join(OUT, 'batchnorm.expected.safetensors'), tensors,
                      {'torch': torch.__version__, 'learningRate': str(LR)})


if __name__ == '__main__':
    main()
