using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.ScoreSampling;

/// <summary>
/// Annealed Langevin dynamics, the sampler of NCSN (Song &amp; Ermon 2019, arXiv:1907.05600, Algorithm 1), driven by a
/// score of the VE SDE's marginals: at each noise level sigma_i (geometric, sigma_1 = sigma_max &gt; ... &gt; sigma_L =
/// sigma_min), run T steps x = x + alpha_i s(x, sigma_i) / 2 + sqrt(alpha_i) z with alpha_i = eps sigma_i^2 / sigma_L^2.
/// The noise-conditional score s(x, sigma) is the SDE's score at the time t with sigma(t) = sigma.
/// </summary>
public static class AnnealedLangevin
{
    /// <summary>Samples of <paramref name="shape"/>, started from the prior N(0, sigma_max^2 I); every draw from <paramref name="generators"/> (per sample, or shared).</summary>
    public static Tensor Run(VeSde sde, ScoreFunction score, long[] shape, SampleGenerators generators, AnnealedLangevinOptions options,
        ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(sde);
        ArgumentNullException.ThrowIfNull(score);
        options.Validate();
        using var noGrad = no_grad();
        var x = sde.SamplePrior(shape, generators, dtype);
        int levels = options.Levels;
        double sigmaLast = sde.SigmaMin;
        for (int i = 0; i < levels; i++)
        {
            double sigma = sde.SigmaMax * Math.Pow(sde.SigmaMin / sde.SigmaMax, (double)i / (levels - 1));
            double t = sde.TimeOfSigma(sigma), alpha = options.StepSize * sigma * sigma / (sigmaLast * sigmaLast);
            for (int step = 0; step < options.StepsPerLevel; step++)
            {
                using var fence = FinalizerFence.Enter();
                using var scope = NewDisposeScope();
                var z = generators.RandnLike(x);
                var next = (x + score(x, t) * (alpha / 2) + z * Math.Sqrt(alpha)).MoveToOuterDisposeScope();
                x.Dispose();
                x = next;
                NativeMemory.ReleaseFreedEvery(i * options.StepsPerLevel + step + 1, 50);
            }
        }
        if (!options.Denoise) return x;
        using (var s = score(x, sde.TimeOfSigma(sigmaLast)))
        {
            var denoised = x + s * (sigmaLast * sigmaLast);
            x.Dispose();
            return denoised;
        }
    }
}
