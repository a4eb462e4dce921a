import sys


def run():
    block = "x" * (1 << 20) + "\n"
    for _ in range(4096):  # 4 GiB
        sys.stdout.write(block)
    return "flooded"
