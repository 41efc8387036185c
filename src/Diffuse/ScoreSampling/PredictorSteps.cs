using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.ScoreSampling;

/// <summary>
/// The predictors of Song et al. 2021 (arXiv:2011.13456): one step of the reverse-time SDE from t to t - dt.
/// Each returns the new sample and its noise-free mean.
/// </summary>
internal static class PredictorSteps
{
    /// <summary>
    /// Euler-Maruyama on the reverse SDE (Eq. 6): x_mean = x - [f(x, t) - g(t)^2 s(x, t)] dt, x = x_mean + g(t) sqrt(dt) z.
    /// </summary>
    public static SampleStep EulerMaruyama(Sde sde, ScoreFunction score, Tensor x, double t, double dt, SampleGenerators generators)
    {
        var mean = x - sde.ReverseDrift(score, x, t, probabilityFlow: false) * dt;
        using var z = generators.RandnLike(x);
        return new SampleStep(mean + z * (sde.Diffusion(t) * Math.Sqrt(dt)), mean);
    }

    /// <summary>
    /// Reverse diffusion (Eq. 47): with the forward step x_{i+1} = x_i + f_i(x_i) + G_i z, x_mean = x - f_i(x) + G_i^2 s(x, t)
    /// and x = x_mean + G_i z. For the VP SDE this is ancestral DDPM sampling to first order.
    /// </summary>
    public static SampleStep ReverseDiffusion(Sde sde, ScoreFunction score, Tensor x, double t, SampleGenerators generators)
    {
        var (driftScale, g) = sde.Discretize(t);
        using var s = score(x, t);
        var mean = x * (1 - driftScale) + s * (g * g);
        using var z = generators.RandnLike(x);
        return new SampleStep(mean + z * g, mean);
    }
}
