namespace Diffuse.Likelihood;

/// <summary>
/// The variational bound of <see cref="Count"/> samples in bits/dim, each part averaged with its standard error:
/// <see cref="Total"/> = <see cref="Prior"/> (L_T) + <see cref="Kl"/> (the sum over t &gt; 0 of L_{t-1}) + <see cref="Decoder"/>
/// (L_0) (Ho et al. 2020, arXiv:2006.11239, Eq. 5).
/// </summary>
public sealed record ElboEstimate(MeanWithError Total, MeanWithError Prior, MeanWithError Kl, MeanWithError Decoder, int Count);
