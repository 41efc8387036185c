using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// Elementwise Gaussian log-likelihoods and KL divergences in nats, the pieces of the variational bound
/// (Ho et al. 2020, arXiv:2006.11239, Eq. 5 and Sec. 3.3; Nichol &amp; Dhariwal 2021, arXiv:2102.09672, Sec. 2),
/// written as improved-diffusion's <c>losses.py</c> so that bits/dim figures compare.
/// </summary>
internal static class GaussianLikelihoods
{
    /// <summary>KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) elementwise.</summary>
    public static Tensor NormalKl(Tensor mean1, Tensor logVariance1, Tensor mean2, Tensor logVariance2)
    {
        using var scope = NewDisposeScope();
        var kl = 0.5 * (-1.0 + logVariance2 - logVariance1 + (logVariance1 - logVariance2).exp() + (mean1 - mean2).square() * (-logVariance2).exp());
        return kl.MoveToOuterDisposeScope();
    }

    /// <summary>The standard normal CDF through the tanh approximation Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 (Page 1977), as improved-diffusion.</summary>
    public static Tensor ApproxStandardNormalCdf(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (0.5 * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh())).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log P(x) of 8-bit data x scaled to [-1, 1] under N(means, e^(2 logScales)) discretized into 256 bins of width 2/255
    /// (Ho et al. 2020, Eq. 13): the mass of [x - 1/255, x + 1/255], with the edge bins extended to -inf and +inf.
    /// </summary>
    public static Tensor DiscretizedGaussianLogLikelihood(Tensor x, Tensor means, Tensor logScales)
    {
        using var scope = NewDisposeScope();
        var centered = x - means;
        var inverseStd = (-logScales).exp();
        var cdfPlus = ApproxStandardNormalCdf(inverseStd * (centered + 1.0 / 255));
        var cdfMinus = ApproxStandardNormalCdf(inverseStd * (centered - 1.0 / 255));
        var logCdfPlus = cdfPlus.clamp_min(1e-12).log();
        var logOneMinusCdfMinus = (1.0 - cdfMinus).clamp_min(1e-12).log();
        var logDelta = (cdfPlus - cdfMinus).clamp_min(1e-12).log();
        var logProbs = where(x < -0.999, logCdfPlus, where(x > 0.999, logOneMinusCdfMinus, logDelta));
        return logProbs.MoveToOuterDisposeScope();
    }

    /// <summary>log N(x; means, e^(2 logScales)), the density of continuous data.</summary>
    public static Tensor GaussianLogLikelihood(Tensor x, Tensor means, Tensor logScales)
    {
        using var scope = NewDisposeScope();
        var logp = -0.5 * Math.Log(2 * Math.PI) - logScales - 0.5 * (x - means).square() * (-2.0 * logScales).exp();
        return logp.MoveToOuterDisposeScope();
    }

    /// <summary>The mean over all but the batch dimension, divided by ln 2: nats per element to bits per dimension, [B].</summary>
    public static Tensor MeanBitsPerDim(Tensor nats)
    {
        using var flat = nats.reshape(nats.shape[0], -1);
        using var mean = flat.mean([1]);
        return mean / Math.Log(2);
    }
}
