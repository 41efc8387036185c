using TorchSharp;

namespace Diffuse.Likelihood;

/// <summary>
/// The variational bound of a batch in bits per dimension: <see cref="Total"/> [B] = <see cref="Prior"/> [B] (L_T) +
/// the sum over t of <see cref="Terms"/> [B, T] (L_{t-1} = KL for t &gt; 0, the decoder's -log p(x_0 | x_1) at t = 0)
/// (Ho et al. 2020, arXiv:2006.11239, Eq. 5).
/// </summary>
public sealed record ElboResult(torch.Tensor Total, torch.Tensor Prior, torch.Tensor Terms);
