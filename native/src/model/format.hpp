// The native model file (.fkm): what `foleykit export` writes next to model.onnx, and what the
// native runtime loads. It is derived from the ONNX file alone (foleykit.export.native), so the
// two always hold the same weights; `onnx_content_hash` names the ONNX file it came from.
//
// Layout (all integers little-endian):
//
//   offset 0   8 bytes   magic "FKMODEL\0"
//   offset 8   u32       format version (kFormatVersion)
//   offset 12  u32       json_bytes: length of the JSON header, 2 .. kMaxJsonBytes
//   offset 16  u64       data_bytes: length of the tensor data section
//   offset 24  u64       checksum: FNV-1a 64 of every byte from offset 32 to the end of file
//   offset 32  json_bytes of UTF-8 JSON, then zero bytes up to data_start
//   data_start = round_up(32 + json_bytes, 64); the file is exactly data_start + data_bytes long
//   data section: tensors, each at a data-relative offset that is a multiple of 64
//
// JSON header (an object; unknown keys are ignored, so the format can grow):
//   "format": "foleykit-native", "version": 1,
//   "onnx_content_hash": "<sha256 hex of the ONNX file's content, as its metadata says>",
//   "meta": { the ONNX file's FoleyKit metadata without content_hash: foleykit_format,
//             model_family, sample_rate, n_fft, hop, n_mels, fmin, fmax (null = sr/2),
//             log_floor, window, center, mel_scale, control_schema, mode, ... },
//   "architecture": { "kind": "clip_decoder" | "causal_transformer", hyper-parameters },
//   "tensors": [ {"name": str, "dtype": "float32", "shape": [int, ...], "offset": int}, ... ]
//
// Architectures and their tensors (torch layouts: a linear weight is [out, in], a conv
// weight [out, in, kernel]; shape [] is a scalar):
//
//   clip_decoder (VAE decoder / GAN generator): z_dim, c_dim, n_mels, frames, channels,
//   base_frames, kernel, leaky_slope
//     fc.weight [channels*base_frames, z_dim+c_dim], fc.bias [channels*base_frames]
//     convs.{i}.weight [channels, channels, kernel], convs.{i}.bias [channels]   i < stages+1
//     cond.{i}.weight [channels, c_dim], cond.{i}.bias [channels]                 i < stages+1
//     out.weight [n_mels+1, channels, 3], out.bias [n_mels+1]
//     stats.lo [], stats.hi []
//   where base_frames << stages == frames.
//
//   causal_transformer (ambience step model): c_dim, n_mels, window, d_model, heads, layers,
//   ff, ln_eps, log_std_min, log_std_max
//     inp.weight [d_model, n_mels], inp.bias [d_model]
//     ctrl.weight [d_model, c_dim], ctrl.bias [d_model]
//     pos [window, d_model]
//     blocks.{i}.ln1.weight, .ln1.bias, .ln2.weight, .ln2.bias [d_model]
//     blocks.{i}.qkv.weight [3*d_model, d_model], .qkv.bias [3*d_model]
//     blocks.{i}.proj.weight [d_model, d_model], .proj.bias [d_model]
//     blocks.{i}.mlp.0.weight [ff, d_model], .mlp.0.bias [ff]
//     blocks.{i}.mlp.2.weight [d_model, ff], .mlp.2.bias [d_model]
//     ln.weight, ln.bias [d_model]
//     head.weight [2*n_mels, d_model], head.bias [2*n_mels]
//     stats.lo, stats.hi, stats.center, stats.spread, stats.level_lo, stats.level_hi []
#pragma once
#include <cstddef>
#include <cstdint>

namespace fk::model {

inline constexpr char kMagic[8] = {'F', 'K', 'M', 'O', 'D', 'E', 'L', '\0'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderBytes = 32;
inline constexpr size_t kAlign = 64;
// Limits that keep a hostile file from asking for absurd allocations.
inline constexpr uint32_t kMaxJsonBytes = 1u << 20;          // 1 MiB of header
inline constexpr uint64_t kMaxFileBytes = 256ull << 20;      // 256 MiB per model file
inline constexpr size_t kMaxTensors = 4096;
inline constexpr size_t kMaxRank = 4;
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxJsonDepth = 32;

// FNV-1a 64 over bytes (the file checksum).
inline uint64_t fnv1a64(const uint8_t* p, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace fk::model
