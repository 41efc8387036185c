using static TorchSharp.torch;

namespace Diffuse;

/// <summary>
/// The check every sampler's result passes before it is returned: a sample with a NaN or an infinity is an error, not an
/// output, so that a diverging model or sampling setting is never written as a CSV of NaN or a black image with exit 0.
/// </summary>
internal static class FiniteSamples
{
    /// <summary>
    /// Throws a one-line <see cref="DiffuseException"/> when any of <paramref name="samples"/> (the first dimension) holds
    /// a value that is not finite; returns <paramref name="samples"/> otherwise.
    /// </summary>
    public static Tensor Require(Tensor samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        long n = samples.dim() == 0 ? 1 : samples.shape[0];
        if (n == 0) return samples;
        long bad;
        using (var finite = isfinite(samples))
        using (var rows = finite.reshape(n, -1).all(1))
        using (var count = rows.logical_not().sum())
            bad = count.item<long>();
        if (bad > 0)
            throw new DiffuseException($"{bad} of {n} samples are not finite; the model's weights or the sampling settings (guidance, sde beta_max) make the process diverge");
        return samples;
    }
}
