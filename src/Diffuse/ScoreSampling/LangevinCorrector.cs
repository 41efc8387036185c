using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.ScoreSampling;

/// <summary>
/// The Langevin corrector of Song et al. 2021 (arXiv:2011.13456, Algorithm 4 and 5): Langevin MCMC steps on p_t
/// whose step size follows a target signal-to-noise ratio r, eps = 2 alpha_i (r ||z|| / ||s||)^2, with the
/// norms averaged over the batch as in score_sde.
/// </summary>
public static class LangevinCorrector
{
    /// <summary>
    /// <paramref name="steps"/> steps x_mean = x + eps s(x, t), x = x_mean + sqrt(2 eps) z at time t.
    /// score_sde uses r = 0.16 for its CIFAR-10 VE models and 0.17 at 1024 px.
    /// </summary>
    public static SampleStep Run(Sde sde, ScoreFunction score, Tensor x, double t, double snr, int steps, SampleGenerators generators)
    {
        if (!(snr > 0)) throw new DiffuseException($"the Langevin corrector's signal-to-noise ratio must be positive, got {snr}");
        if (steps < 1) throw new DiffuseException($"the Langevin corrector needs at least one step, got {steps}");
        var alpha = sde.LangevinScale(t);
        var sample = x.alias();
        var mean = x.alias();
        for (int i = 0; i < steps; i++)
        {
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            var s = score(sample, t);
            var z = generators.RandnLike(sample);
            var scoreNorm = s.reshape(s.shape[0], -1).norm(1).mean().to_type(ScalarType.Float64).item<double>();
            var noiseNorm = z.reshape(z.shape[0], -1).norm(1).mean().to_type(ScalarType.Float64).item<double>();
            var stepSize = 2 * alpha * Math.Pow(snr * noiseNorm / scoreNorm, 2);
            var newMean = (sample + s * stepSize).MoveToOuterDisposeScope();
            var newSample = (newMean + z * Math.Sqrt(2 * stepSize)).MoveToOuterDisposeScope();
            sample.Dispose(); mean.Dispose();
            (sample, mean) = (newSample, newMean);
        }
        return new SampleStep(sample, mean);
    }
}
