using TorchSharp;

namespace Diffuse.Process;

/// <summary>
/// A score s(x, t) ~ grad_x log p_t(x) of the marginals of an <see cref="Sde"/> at continuous time t in
/// (0, <see cref="Sde.T"/>] (Song et al. 2021, arXiv:2011.13456, Eq. 6), for a batch x [B, ...], returned
/// with x's shape, dtype and device. A network wrapped to output scores, or a closed form such as
/// <c>GaussianMixture.ScoreUnder</c>. It must be differentiable in x where likelihoods take its divergence.
/// </summary>
public delegate torch.Tensor ScoreFunction(torch.Tensor x, double t);
