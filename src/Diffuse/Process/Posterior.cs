using TorchSharp;

namespace Diffuse.Process;

/// <summary>
/// q(x_{t-1} | x_t, x_0) = N(Mean, Variance) (Ho et al. 2020, Eq. 6-7). <see cref="LogVarianceClipped"/>
/// is log(Variance) with the t = 0 entry (where the variance is 0) replaced by the t = 1 entry, as in
/// improved-diffusion, so that it stays finite.
/// </summary>
public sealed record Posterior(torch.Tensor Mean, torch.Tensor Variance, torch.Tensor LogVarianceClipped);
