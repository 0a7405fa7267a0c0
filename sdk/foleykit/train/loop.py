"""The training loop shared by the three families: one process, or one of several under
``torchrun`` (DistributedDataParallel; gloo on CPU, NCCL on GPUs). Rank 0 alone writes the run
folder. Every step draws its batch and noise from a generator seeded by (seed, rank, step),
so a run is deterministic for its seed and ``--resume`` continues the same sequence."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import nn

from ..models import build_model
from .checkpoint import CHECKPOINT, atomic_write_bytes, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import Dataset, load_dataset
from .preview import write_loss_curve, write_preview

__all__ = ["train"]


class _Loss(nn.Module):
    """Wraps ``model.loss`` as ``forward`` so DDP sees the whole training graph in one call."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.logs: Dict[str, float] = {}

    def forward(self, *batch, generator=None) -> torch.Tensor:
        loss, self.logs = self.model.loss(*batch, generator=generator)
        return loss


def _dist():
    """(rank, world, device), initialising the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    if cuda:
        torch.cuda.set_device(device)
    return rank, world, device


def _step_generator(seed: int, rank: int, step: int, device: torch.device) -> torch.Generator:
    s = int(np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0] >> 1)
    return torch.Generator(device=device).manual_seed(s)


def _batch(ds: Dataset, cfg: TrainConfig, model: nn.Module, b: int, gen: torch.Generator,
           device: torch.device):
    cpu = torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=gen,
                                                          device=gen.device)))
    idx = torch.randint(len(ds), (b,), generator=cpu)
    if cfg.model != "transformer":
        return [t.to(device) for t in ds.one_shot_batch(idx)]
    w = model.window
    lens = torch.tensor([ds.mels[k].shape[1] for k in idx.tolist()], dtype=torch.float64)
    u = torch.rand(b, generator=cpu, dtype=torch.float64)
    if not getattr(model, "relative", False):
        # start in [-(w-1), frames-w-1]: some windows begin in silence, as a fresh stream does
        starts = (u * (lens - 1).clamp(min=1)).floor().long() - (w - 1)
        seq, c = ds.window_batch(idx, starts, w + 1)
        return [seq.to(device), c.to(device)]
    # relative form: sequences of n = train_frames > window + 1 frames, so that rows with a
    # full attention band are in every batch; start in [-(w-1), frames-n]
    n = model.train_frames
    starts = (u * (lens - n + w).clamp(min=1)).floor().long() - (w - 1)
    share = model.config.silence_starts
    if share > 0:  # these begin with 1 .. n - 2 floor frames
        quiet = torch.rand(b, generator=cpu, dtype=torch.float64) < share
        pre = (torch.rand(b, generator=cpu, dtype=torch.float64) * (n - 2)).floor().long() + 1
        starts = torch.where(quiet, -pre, starts)
    seq, c = ds.window_batch(idx, starts, n)
    real = (torch.arange(n).unsqueeze(0) + starts.unsqueeze(1)) >= 0  # not the floor before
    return [seq.to(device), c.to(device), real.to(device)]


def train(cfg: TrainConfig, out: Path, resume: bool = False, progress: bool = True) -> Path:
    """Trains ``cfg`` into the run folder ``out`` (config.json, checkpoint.pt, previews/,
    loss.png, history.json) and returns ``out``."""
    from tqdm import tqdm

    out = Path(out)
    rank, world, device = _dist()
    try:
        torch.manual_seed(cfg.seed)  # same initial weights on every rank
        ds = load_dataset(cfg)
        model = build_model(cfg.model, ds.schema, cfg.n_mels, cfg.frames, cfg.log_floor,
                            cfg.model_config)
        model.stats.set(ds.stats)
        model.to(device)
        mc = model.config
        if cfg.model == "gan":
            opts = {"g": torch.optim.Adam(model.generator.parameters(), cfg.lr, betas=(0.5, 0.9)),
                    "d": torch.optim.Adam(model.discriminator.parameters(), mc.lr_disc,
                                          betas=(0.5, 0.9))}
        else:
            opts = {"all": torch.optim.Adam(model.parameters(), cfg.lr)}
        start, history = 0, []
        ckpt_path = out / CHECKPOINT
        if resume:
            ck = load_checkpoint(ckpt_path)
            if ck["family"] != cfg.model:
                raise ValueError(f"checkpoint is a {ck['family']} model, config says {cfg.model}")
            model.load_state_dict(ck["model"])
            for k, o in opts.items():
                o.load_state_dict(ck["optim"][k])
            start, history = int(ck["step"]), list(ck["history"])
        if rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")

        ddp = world > 1
        wrap = (lambda m: torch.nn.parallel.DistributedDataParallel(m)) if ddp else (lambda m: m)
        if cfg.model == "gan":
            g, d = wrap(model.generator), wrap(model.discriminator)
        else:
            lossmod = _Loss(model)
            net = wrap(lossmod)
        b = max(1, cfg.batch_size // world)
        preview_controls = ds.controls[0]

        bar = tqdm(total=cfg.steps, initial=start, disable=not (progress and rank == 0),
                   desc=f"train {cfg.model}", file=sys.stderr, dynamic_ncols=True)
        model.train()
        for step in range(start + 1, cfg.steps + 1):
            gen = _step_generator(cfg.seed, rank, step, device)
            batch = _batch(ds, cfg, model, b, gen, device)
            if cfg.model == "gan":
                mel, alive, c = batch
                z = torch.randn((b, model.z_dim), generator=gen, device=device)
                ld, logs = model.d_loss(g, d, mel, alive, c, z)
                opts["d"].zero_grad(set_to_none=True)
                ld.backward()
                opts["d"].step()
                lg, lg_logs = model.g_loss(g, d, mel, alive, c, z)
                opts["g"].zero_grad(set_to_none=True)
                lg.backward()
                nn.utils.clip_grad_norm_(model.generator.parameters(), cfg.grad_clip)
                opts["g"].step()
                logs.update(lg_logs)
            else:
                loss = net(*batch, generator=gen)
                opts["all"].zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opts["all"].step()
                logs = lossmod.logs
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()}, refresh=False)
            if step % cfg.log_every == 0 or step == cfg.steps:
                history.append({"step": step, **logs})
            if rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
                _save(ckpt_path, model, opts, step, history, cfg, ds)
            if rank == 0 and (step % cfg.preview_every == 0 or step == cfg.steps):
                write_preview(model, preview_controls, cfg, out, step)
                write_loss_curve(history, out / "loss.png")
        bar.close()
        if rank == 0:
            atomic_write_bytes(out / "history.json",
                               lambda f: f.write(json.dumps(history).encode()))
            if not (out / "loss.png").exists():
                write_loss_curve(history, out / "loss.png")
        if ddp:
            torch.distributed.barrier()
        return out
    finally:
        if world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _save(path: Path, model: nn.Module, opts, step: int, history: List[Dict], cfg: TrainConfig,
          ds: Dataset) -> None:
    save_checkpoint(path, {
        "format": 1,
        "family": cfg.model,
        "step": step,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optim": {k: o.state_dict() for k, o in opts.items()},
        "history": history,
        "config": cfg.to_dict(),
        "schema": ds.schema.to_dict(),
        "stats": model.stats.as_dict(),
        "torch_version": str(torch.__version__),  # TorchVersion is not weights_only-safe
    })
