#include <cmath>
#include <complex>

#include "dsp/synthesis.hpp"

namespace fk::dsp {

float spectral_convergence_db(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F,
                              const float* y, int64_t n) {
  const int64_t Fy = stft_frames(n, plan.hop());
  if (Fy != F)
    throw Error(Status::ShapeMismatch,
                "signal of " + std::to_string(n) + " samples gives " + std::to_string(Fy) +
                    " frames but the magnitude has " + std::to_string(F));
  std::vector<cfloat> S(static_cast<size_t>(plan.bins()) * F);
  plan.stft(y, n, S.data());
  double num = 0.0, den = 0.0;
  const int nb = plan.bins();
  for (int64_t t = 0; t < F; ++t)
    for (int k = 0; k < nb; ++k) {
      const double m = mag[k * lay.bin + t * lay.frame];
      const double d = m - std::abs(S[t * nb + k]);
      num += d * d;
      den += m * m;
    }
  if (den <= 0.0) throw Error(Status::InvalidArgument, "magnitude is all zeros");
  return static_cast<float>(10.0 * std::log10(std::max(num, 1e-300) / den));
}

}  // namespace fk::dsp
