namespace Diffuse.Likelihood;

/// <summary>The decoder p(x_0 | x_1), the last term L_0 of the variational bound.</summary>
public enum DataDecoder
{
    /// <summary>8-bit data scaled to [-1, 1]: a Gaussian discretized into 256 bins (Ho et al. 2020, Eq. 13); the bound is on -log2 P(x) / D.</summary>
    Discretized8Bit,
    /// <summary>Continuous data: the Gaussian density itself; the bound is on -log2 p(x) / D (which may be negative).</summary>
    ContinuousGaussian,
}
