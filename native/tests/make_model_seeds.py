"""Writes tiny but complete models (.fkm) into native/tests/fuzz_corpus/ so the fuzzer starts
from files that pass every check and reach inference: a VAE decoder and causal Transformers
(absolute and relative positional forms) with random weights, exported and converted by the real pipeline (foleykit export +
foleykit.export.native). Run from the repository root with the project's venv:

    .venv/bin/python native/tests/make_model_seeds.py
"""
from pathlib import Path
import tempfile

import torch

from foleykit.export import export_model
from foleykit.models import ControlDef, ControlSchema
from foleykit.models.transformer import CausalTransformer, TransformerConfig
from foleykit.models.vae import ConditionalVAE, VAEConfig

OUT = Path(__file__).resolve().parent / "fuzz_corpus"
FEATURES = {"sample_rate": 48000, "n_fft": 1024, "hop": 256, "n_mels": 8, "fmin": 0.0,
            "fmax": None, "log_floor": 1e-5}


def main() -> None:
    torch.manual_seed(0)
    schema = ControlSchema([ControlDef("kind", "categorical", "a", choices=("a", "b")),
                            ControlDef("level", "continuous", 0.5, low=0.0, high=1.0)])
    models = {
        "model_vae_tiny": ConditionalVAE(schema.dim, n_mels=8, frames=8, config=VAEConfig(
            z_dim=2, channels=4, enc_channels=4, base_frames=2, kernel=3)),
        "model_transformer_tiny": CausalTransformer(schema.dim, n_mels=8, config=TransformerConfig(
            window=4, d_model=16, heads=2, layers=2, ff=16)),
        "model_transformer_relative_tiny": CausalTransformer(
            schema.dim, n_mels=8, config=TransformerConfig(window=4, d_model=16, heads=2,
                                                           layers=2, ff=16,
                                                           positional="relative")),
    }
    with torch.no_grad():  # a distance bias that matters (it starts at zero)
        for b in models["model_transformer_relative_tiny"].blocks:
            b.rel_bias.normal_()
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in models.items():
            onnx_path = export_model(model, schema, FEATURES, Path(tmp) / f"{name}.onnx")
            data = onnx_path.with_suffix(".fkm").read_bytes()
            (OUT / f"{name}.fkm").write_bytes(data)
            print(f"{name}.fkm: {len(data)} bytes")


if __name__ == "__main__":
    main()
