"""foleykit.models: the control schema, the three families' shapes and bounds, seeded
determinism, the streaming step, and a long Transformer rollout that must stay in range."""
from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
import torch

from foleykit.models import (ControlDef, ControlSchema, alive_mask, build_model,
                             count_parameters, seed_noise)


@pytest.fixture
def schema() -> ControlSchema:
    return ControlSchema([
        ControlDef("material", "categorical", "wood", choices=("wood", "metal", "stone")),
        ControlDef("velocity", "continuous", 1.0, low=0.1, high=10.0, log=True),
        ControlDef("size", "continuous", 0.5, low=0.0, high=2.0),
    ])


def test_schema_encodes_one_hot_and_normalised(schema):
    v = schema.encode({"material": "metal", "velocity": 10.0, "size": 0.5})
    assert schema.dim == 5 and v.dtype == np.float32
    np.testing.assert_allclose(v, [0, 1, 0, 1.0, 0.25], atol=1e-6)
    d = schema.encode()  # defaults
    np.testing.assert_allclose(d, [1, 0, 0, 0.5, 0.25], atol=1e-6)


@pytest.mark.parametrize("values, name", [
    ({"colour": "red"}, "colour"), ({"material": "glass"}, "material"),
    ({"velocity": 11.0}, "velocity"), ({"size": float("nan")}, "size"),
    ({"size": "big"}, "size"), ({"material": 1}, "material")])
def test_schema_rejects_with_the_control_named(schema, values, name):
    with pytest.raises(ValueError, match=name):
        schema.encode(values)


def test_schema_json_round_trip(schema):
    again = ControlSchema.from_json(schema.to_json())
    assert again == schema
    json.loads(schema.to_json())
    with pytest.raises(ValueError):
        ControlSchema.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="low < high"):
        ControlDef("x", "continuous", 0.0, low=1.0, high=1.0)


def test_schema_from_procedural_categories():
    P = importlib.import_module("foleykit.data.procedural")
    s = ControlSchema.from_categories([P.CATEGORIES[c] for c in ("impact", "footstep", "door")])
    assert s.names[0] == "category" and s["category"].choices == ("impact", "footstep", "door")
    # "action" exists only in door here; "size"/"force" may clash; every name encodes
    assert "material" in s.names and "surface" in s.names
    s.encode(s.defaults())


@pytest.mark.parametrize("family", ["vae", "gan", "transformer"])
def test_default_sizes_are_compact(family, schema):
    m = build_model(family, schema)
    exported = m if family == "transformer" else m.decoder
    assert count_parameters(m) < 1_000_000
    assert count_parameters(exported) * 4 < 1_000_000  # fp32 bytes of the exported graph


@pytest.mark.parametrize("family", ["vae", "gan"])
def test_one_shot_shapes_bounds_and_seeded_z(family, schema):
    torch.manual_seed(0)
    m = build_model(family, schema).eval()
    c = torch.from_numpy(schema.encode_batch([{}, {"material": "stone"}]))
    z = torch.from_numpy(np.stack([seed_noise(7, m.z_dim), seed_noise(7, m.z_dim)]))
    with torch.no_grad():
        mel, alive = m.decode(z, c)
    assert mel.shape == (2, 80, 128) and alive.shape == (2, 128)
    assert float(mel.min()) >= float(m.stats.lo) and float(mel.max()) <= float(m.stats.hi)
    with torch.no_grad():
        again, _ = m.decode(z, c)
    assert torch.equal(mel, again)
    assert not torch.equal(mel[0], mel[1])  # controls matter


def test_seed_noise_is_deterministic_and_normal():
    a, b = seed_noise(1, 4096), seed_noise(1, 4096)
    assert np.array_equal(a, b) and not np.array_equal(a, seed_noise(2, 4096))
    assert abs(a.mean()) < 0.1 and abs(a.std() - 1) < 0.1
    assert not np.array_equal(seed_noise(1, 8, stream=0), seed_noise(1, 8, stream=1))
    with pytest.raises(ValueError, match="seed"):
        seed_noise(-1, 4)


def test_alive_mask_marks_until_the_tail_falls_60_db():
    mel = np.full((4, 10), np.log(1e-5), np.float32)
    mel[:, 0:3] = 0.0
    mel[:, 3] = -5.0    # 43 dB down: still sounding
    mel[:, 4] = -8.0    # 69 dB down: not
    np.testing.assert_array_equal(alive_mask(mel), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_vae_and_gan_losses_backpropagate(schema):
    torch.manual_seed(0)
    c = torch.from_numpy(schema.encode_batch([{}] * 3))
    mel = torch.randn(3, 80, 128) - 5
    alive = torch.ones(3, 128)
    vae = build_model("vae", schema)
    loss, logs = vae.loss(mel, alive, c)
    loss.backward()
    assert set(logs) >= {"rec", "kl", "alive"}
    gan = build_model("gan", schema)
    z = torch.randn(3, gan.z_dim)
    ld, _ = gan.d_loss(gan.generator, gan.discriminator, mel, alive, c, z)
    lg, _ = gan.g_loss(gan.generator, gan.discriminator, mel, alive, c, z)
    (ld + lg).backward()
    assert torch.isfinite(ld) and torch.isfinite(lg)


def test_transformer_step_matches_forward_and_keeps_state_size(schema):
    torch.manual_seed(0)
    m = build_model("transformer", schema, config={"window": 8, "d_model": 32, "layers": 1,
                                                     "ff": 64}).eval()
    c = torch.from_numpy(schema.encode()[None])
    frame, state = m.silence(), m.initial_state()
    assert state.shape == (1, 8, 80)
    with torch.no_grad():
        for k in range(12):
            noise = torch.from_numpy(seed_noise(3, 80, stream=k))[None]
            new_frame, new_state = m.step(frame, c, noise, state)
            assert new_state.shape == state.shape and new_frame.shape == (1, 80)
            mu, log_std = m(m.stats.normalize(new_state), c)
            expect = m._stabilise((mu[:, -1] + log_std[:, -1].exp() * noise) * m.stats.spread
                                  + m.stats.center)
            torch.testing.assert_close(new_frame, expect)
            frame, state = new_frame, new_state


def test_relative_transformer_step_needs_only_its_receptive_field(schema):
    """The relative form: no positional parameter, a distance bias per block, state of
    layers * (window - 1) + 1 frames, and every row's prediction is the same whether it is
    computed inside a long sequence or as the newest row of exactly that many frames (what
    makes the native key/value cache exact). One frame less changes it."""
    torch.manual_seed(0)
    m = build_model("transformer", schema, config={"window": 6, "d_model": 32, "layers": 2,
                                                     "heads": 4, "ff": 64,
                                                     "positional": "relative"}).eval()
    names = dict(m.named_parameters())
    assert "pos" not in names and names["blocks.1.rel_bias"].shape == (4, 6)
    assert m.state_frames == 11 and m.train_frames == 13
    with torch.no_grad():
        for b in m.blocks:
            b.rel_bias.normal_()
    c = torch.from_numpy(schema.encode()[None])
    seq = torch.randn(1, 40, 80)
    with torch.no_grad():
        mu, log_std = m(seq, c)  # longer than any buffer: the band is built for the call
        for t in (10, 23, 39):
            mu_t, ls_t = m(seq[:, t - 10:t + 1], c)
            torch.testing.assert_close(mu_t[:, -1], mu[:, t], atol=1e-5, rtol=0)
            torch.testing.assert_close(ls_t[:, -1], log_std[:, t], atol=1e-5, rtol=0)
        short, _ = m(seq[:, 30:40], c)
        assert (short[:, -1] - mu[:, 39]).abs().max() > 1e-4
        frame, state = m.silence(), m.initial_state()
        assert state.shape == (1, 11, 80)
        for k in range(4):
            noise = torch.from_numpy(seed_noise(3, 80, stream=k))[None]
            frame, state = m.step(frame, c, noise, state)
            assert state.shape == (1, 11, 80) and frame.shape == (1, 80)
    loss, logs = m.train().loss(torch.randn(3, m.train_frames, 80) - 5.0, c.expand(3, -1))
    loss.backward()
    assert torch.isfinite(loss) and names["blocks.0.rel_bias"].grad.abs().sum() > 0


def test_relative_transformer_loss_skips_the_silence_before_a_clip(schema):
    """Frames marked not real (the floor before a clip) are never targets: the loss is the
    NLL over the real targets alone."""
    torch.manual_seed(0)
    m = build_model("transformer", schema, config={
        "window": 4, "d_model": 16, "heads": 2, "layers": 2, "ff": 32, "positional": "relative",
        "input_noise": 0.0, "sched_sampling": 0.0})
    c = torch.from_numpy(schema.encode()[None]).expand(2, -1)
    seq = torch.randn(2, m.train_frames, 80) - 5.0
    seq[0, :3] = float(m.stats.lo)
    real = torch.ones(2, m.train_frames, dtype=torch.bool)
    real[0, :3] = False
    loss, _ = m.loss(seq, c, real)
    mu, log_std = m(m.stats.normalize(seq[:, :-1]), c)
    e = (0.5 * ((m.stats.normalize(seq[:, 1:]) - mu) / log_std.exp()).pow(2) + log_std).mean(-1)
    want = torch.cat([e[0, 2:], e[1]]).mean()  # targets 1, 2 of clip 0 are floor frames
    torch.testing.assert_close(loss, want)
    full, _ = m.loss(seq, c, torch.ones_like(real))
    torch.testing.assert_close(full, m.loss(seq, c)[0])


def test_transformer_positional_form_is_checked(schema):
    with pytest.raises(ValueError, match="positional"):
        build_model("transformer", schema, config={"positional": "rotary"})
    m = build_model("transformer", schema)  # old configs: the absolute form, as before
    assert m.config.positional == "absolute" and m.state_frames == m.window
    assert "pos" in dict(m.named_parameters())


def _stationary_data(n=6, frames=160, seed=0):
    """Two ambience "levels" of a textured noise bed, log-mel ~ N(base + level, 0.5)."""
    rng = np.random.default_rng(seed)
    base = np.linspace(-3.0, -7.0, 80, dtype=np.float32)[:, None]
    mels, levels = [], []
    for i in range(n):
        lv = float(i % 2)
        mels.append((base + 2.0 * lv + 0.5 * rng.standard_normal((80, frames))).astype(np.float32))
        levels.append(lv)
    return mels, levels


def test_transformer_long_rollout_stays_in_range():
    """A tiny Transformer trained briefly on a stationary bed streams 3000 frames (16 s)
    without dying into silence or running into noise: the level of the last 1000 frames
    stays near the trained level and frames keep varying."""
    from foleykit.models import compute_stats

    torch.manual_seed(0)
    s = ControlSchema([ControlDef("intensity", "continuous", 0.0, low=0.0, high=1.0)])
    m = build_model("transformer", s, config={"window": 8, "d_model": 32, "layers": 1,
                                               "heads": 2, "ff": 64})
    mels, levels = _stationary_data()
    m.stats.set(compute_stats(mels, 1e-5))
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        seqs, cs = [], []
        for _ in range(8):
            k = int(torch.randint(len(mels), (1,), generator=g))
            t = int(torch.randint(mels[k].shape[1] - 9, (1,), generator=g))
            seqs.append(mels[k][:, t:t + 9].T)
            cs.append([levels[k]])
        loss, _ = m.loss(torch.tensor(np.stack(seqs)), torch.tensor(cs), generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    for lv in (0.0, 1.0):
        c = torch.tensor([[lv]])
        frame, state, out = m.silence(), m.initial_state(), []
        with torch.no_grad():
            for k in range(3000):
                frame, state = m.step(frame, c, torch.randn(1, 80, generator=g), state)
                out.append(frame[0].numpy())
        y = np.stack(out)
        assert np.isfinite(y).all()
        assert y.min() >= float(m.stats.lo) - 1e-5 and y.max() <= float(m.stats.hi) + 1e-5
        tail = y[-1000:]
        target = -5.0 + 2.0 * lv
        assert abs(tail.mean() - target) < 1.0, (lv, tail.mean())
        assert tail.std(axis=0).mean() > 0.1  # still a texture, not a frozen frame
