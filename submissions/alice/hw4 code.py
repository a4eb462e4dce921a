"""Alice's Homework 4 code: P5 losses and the LeNet-5 C3 layer."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

train_set = datasets.MNIST("./data", train=True, download=True, transform=transforms.ToTensor())


def logistic_loss(output, target):
    return F.softplus(-target.view(-1) * output.view(-1)).mean()


def SQUARE_loss(output, target):
    # Written from the hint: (1/2)(1-y)[(1-s(-z))^2 + s(z)^2] + (1/2)(1+y)[s(-z)^2 + (1-s(z))^2]
    z, y = output.view(-1), target.view(-1)
    s, t = torch.sigmoid(z), torch.sigmoid(-z)
    per_sample = 0.5 * (1 - y) * ((1 - t) ** 2 + s**2) + 0.5 * (1 + y) * (t**2 + (1 - s) ** 2)
    return per_sample.mean()


class C3_layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
                      [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5],
                      [0, 1, 2, 5], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
                      [0, 1, 2, 3, 4, 5]]
        self.convs = nn.ModuleList([nn.Conv2d(len(t), 1, kernel_size=5) for t in self.table])

    def forward(self, x):
        return torch.cat([conv(x[:, t, :, :]) for conv, t in zip(self.convs, self.table)], dim=1)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.c3 = C3_layer()
        self.f5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.f7 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.tanh(F.avg_pool2d(torch.tanh(self.c1(x)), 2))
        x = torch.tanh(F.avg_pool2d(torch.tanh(self.c3(x)), 2))
        x = torch.tanh(self.f5(x.flatten(1)))
        return self.f7(torch.tanh(self.f6(x)))


for epoch in range(3):
    print(f"epoch {epoch}")
