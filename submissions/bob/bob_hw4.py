import torch
import torch.nn as nn


def sum_of_squares_loss(output, target):
    # labels treated as 0/1 although they are -1/+1
    p = torch.sigmoid(output.reshape(-1))
    return torch.mean((p - (target.reshape(-1) + 1) / 2) ** 2)


def logistic_loss(output, target):
    return torch.mean(-torch.nn.functional.logsigmoid(target.reshape(-1) * output.reshape(-1)))


class C3_layer(nn.Module):
    # the full layer instead of Table I
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 16, 5)

    def forward(self, x):
        return self.conv(x)
