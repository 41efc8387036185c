using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>A mean over samples and its standard error s / sqrt(n) (s the unbiased std; NaN for one sample).</summary>
public sealed record MeanWithError(double Mean, double StandardError)
{
    /// <summary>The mean and standard error of the values [n].</summary>
    public static MeanWithError Of(Tensor values)
    {
        using var scope = NewDisposeScope();
        var v = values.to_type(ScalarType.Float64).reshape(-1);
        long n = v.shape[0];
        if (n == 0) throw new DiffuseException("a mean needs at least one value");
        double mean = v.mean().item<double>();
        double error = n < 2 ? double.NaN : v.std().item<double>() / Math.Sqrt(n);
        return new MeanWithError(mean, error);
    }
}
