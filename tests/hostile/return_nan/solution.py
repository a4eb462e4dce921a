import torch


def run():
    return {"loss": float("nan"), "weights": torch.tensor([1.0, float("inf")])}
