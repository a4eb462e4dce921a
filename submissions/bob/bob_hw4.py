import torch
import torch.nn as nn


def sum_of_squares_loss(output, target):
    # the square is missing: 2*sigmoid(-y z) instead of 2*sigmoid(-y z)^2
    return torch.mean(2 * torch.sigmoid(-target.reshape(-1) * output.reshape(-1)))


def logistic_loss(output, target):
    return torch.mean(-torch.nn.functional.logsigmoid(target.reshape(-1) * output.reshape(-1)))


class C3_layer(nn.Module):
    # the full layer instead of Table I
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 16, 5)

    def forward(self, x):
        return self.conv(x)
