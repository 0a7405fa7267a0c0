"""``python -m foleykit.train ...``: the train command on its own, for launchers such as
``torchrun -m foleykit.train`` / ``python -m torch.distributed.run -m foleykit.train``."""
from __future__ import annotations

import argparse
import sys

from .cli import add_train_parser


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="foleykit")
    sub = parser.add_subparsers(dest="command")
    add_train_parser(sub)
    args = parser.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
