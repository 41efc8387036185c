using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.ScoreSampling;

/// <summary>
/// The predictor-corrector sampler of Song et al. 2021 (arXiv:2011.13456, Sec. 4.2 and Algorithm 1): from the prior,
/// alternate Langevin corrector steps and reverse-SDE predictor steps down a uniform time grid T = t_0 &gt; ... &gt;
/// t_{N-1} = eps, N the SDE's <see cref="Sde.DiscreteSteps"/>. Predictor only is the reverse-diffusion / Euler-Maruyama sampler, corrector only is annealed
/// Langevin dynamics over the SDE's noise levels.
/// </summary>
public static class PredictorCorrectorSampler
{
    /// <summary>Draws samples of <paramref name="shape"/> (float32 unless <paramref name="dtype"/>) with every random draw from <paramref name="generators"/> (per sample, or shared).</summary>
    public static Tensor Run(Sde sde, ScoreFunction score, long[] shape, SampleGenerators generators, PredictorCorrectorOptions options,
        ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(sde);
        ArgumentNullException.ThrowIfNull(score);
        options.Validate();
        using var noGrad = no_grad();
        var x = sde.SamplePrior(shape, generators, dtype);
        var mean = x.alias();
        int n = sde.DiscreteSteps;
        double dt = (sde.T - options.Eps) / (n - 1);
        for (int i = 0; i < n; i++)
        {
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            double t = sde.T - i * dt; // linspace(T, eps, N) as score_sde
            var step = new SampleStep(x.alias(), mean.alias());
            if (options.CorrectorSteps > 0) step = LangevinCorrector.Run(sde, score, step.Sample, t, options.Snr, options.CorrectorSteps, generators);
            step = options.Predictor switch
            {
                Predictor.EulerMaruyama => PredictorSteps.EulerMaruyama(sde, score, step.Sample, t, dt, generators),
                Predictor.ReverseDiffusion => PredictorSteps.ReverseDiffusion(sde, score, step.Sample, t, generators),
                _ => step,
            };
            x.Dispose(); mean.Dispose();
            x = step.Sample.MoveToOuterDisposeScope();
            mean = step.Mean.MoveToOuterDisposeScope();
            NativeMemory.ReleaseFreedEvery(i + 1, 50);
        }
        if (options.Denoise) { x.Dispose(); return mean; }
        mean.Dispose();
        return x;
    }
}
