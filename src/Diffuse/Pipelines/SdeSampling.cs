using Diffuse.Process;
using Diffuse.Configuration;
using Diffuse.ScoreSampling;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>Samples of a continuous-time SDE model (<see cref="SdeSpec"/>) drawn with the score samplers.</summary>
internal static class SdeSampling
{
    /// <summary>Predictor steps of the sample grids written during training: min(N, 200).</summary>
    public static int GridSteps(SdeSpec spec) => Math.Min(spec.DiscreteSteps, 200);

    /// <summary>
    /// Draws samples of <paramref name="shape"/> (in the network's coordinates) by the predictor-corrector sampler (Song et al. 2021,
    /// arXiv:2011.13456, Algorithm 1; reverse-diffusion predictor and one Langevin corrector at snr 0.16 unless
    /// <paramref name="options"/> say otherwise) over <paramref name="steps"/> steps, every draw from <paramref name="generator"/>.
    /// <paramref name="network"/> takes (c_in x, float32 time labels [B]) and predicts the noise, as <see cref="SdeSpecExtensions.Score"/> reads it.
    /// </summary>
    public static Tensor PredictorCorrector(SdeSpec spec, Func<Tensor, Tensor, Tensor> network, long[] shape, int steps, Generator generator,
        PredictorCorrectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var sde = spec.CreateSde(steps);
        return PredictorCorrectorSampler.Run(sde, spec.Score(network, sde), shape, generator, options ?? new PredictorCorrectorOptions());
    }
}
