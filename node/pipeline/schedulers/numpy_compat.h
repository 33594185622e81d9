#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_NUMPY_COMPAT_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_NUMPY_COMPAT_H_

#include <cstdint>
#include <vector>

// diffusers builds its timestep and sigma grids with numpy in float64; these
// reproduce numpy's arithmetic step for step so the grids (and the integer
// timesteps rounded from them) come out identical.
namespace reelfarm::pipeline::numpy_compat {

// np.linspace(start, stop, num): start + i * ((stop - start) / (num - 1)),
// the last point set to stop exactly; num == 1 gives {start}.
std::vector<double> Linspace(double start, double stop, int64_t num);

// np.arange(start, stop, step) for a float step: ceil((stop - start) / step)
// points, start + i * ((start + step) - start).
std::vector<double> Arange(double start, double stop, double step);

// np.round / ndarray.round(): round half to even (the default FP rounding
// mode), unlike std::round.
double Round(double x);

// np.interp(x, xp, fp) with increasing xp, clamping outside [xp[0], xp[-1]].
std::vector<double> Interp(const std::vector<double>& x,
                           const std::vector<double>& xp,
                           const std::vector<double>& fp);

}  // namespace reelfarm::pipeline::numpy_compat

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_NUMPY_COMPAT_H_
