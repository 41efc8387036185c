using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// EDM's churn (Algorithm 2 of Karras et al. 2022, arXiv:2206.00364, lines 4-6): before step i the sample is lifted from
/// its level sigma_i to sigma_hat = sigma_i (1 + gamma_i) by fresh noise, and the model is evaluated and the step taken
/// from there. Adding noise and then solving the ODE further undoes errors of the earlier steps (their Sec. 4); the
/// bounds keep it away from the levels where it only costs detail. Written once for Euler and Heun.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>gamma</term><description>gamma_i = min(S_churn / N, sqrt(2) - 1) for sigma_i in [S_tmin, S_tmax], else 0 (N: the run's steps)</description></item>
/// <item><term>sigmaHat</term><description>t_hat_i = sigma_i (1 + gamma_i), line 5</description></item>
/// <item><term>xHat</term><description>x_hat_i = x_i + sqrt(t_hat_i^2 - t_i^2) eps_i, eps_i ~ N(0, S_noise^2 I), line 6</description></item>
/// </list>
/// The model is told the training timestep of sigma_hat (log-sigma interpolation, clamped to the training range).
/// </remarks>
internal sealed class Churn
{
    private readonly double _gamma, _sMin, _sMax, _sNoise;
    private readonly IReadOnlyList<double> _trainSigmas;
    private readonly string _scheduler;

    private Churn(double gamma, double sMin, double sMax, double sNoise, IReadOnlyList<double> trainSigmas, string scheduler) =>
        (_gamma, _sMin, _sMax, _sNoise, _trainSigmas, _scheduler) = (gamma, sMin, sMax, sNoise, trainSigmas, scheduler);

    /// <summary>The churn of a run of <paramref name="steps"/> steps; null when <c>s_churn</c> is 0 (the default), which leaves the sampler as it was.</summary>
    /// <param name="trainSigmas">sqrt((1 - abar_t) / abar_t) at every training timestep, to tell the model the timestep of sigma_hat.</param>
    /// <param name="scheduler">The scheduler's name, for messages.</param>
    public static Churn? For(SchedulerConfig config, int steps, IReadOnlyList<double> trainSigmas, string scheduler)
    {
        double sChurn = config.SChurn ?? 0;
        if (sChurn == 0) return null;
        return new Churn(Math.Min(sChurn / steps, Math.Sqrt(2) - 1), config.STmin ?? 0, config.STmax ?? double.PositiveInfinity, config.SNoise ?? 1, trainSigmas, scheduler);
    }

    /// <summary>sigma_hat = sigma (1 + gamma) at the level <paramref name="sigma"/>: sigma itself outside [s_tmin, s_tmax].</summary>
    public double SigmaHat(double sigma) => sigma >= _sMin && sigma <= _sMax ? sigma * (1 + _gamma) : sigma;

    /// <summary>x_hat = x + sqrt(sigma_hat^2 - sigma^2) s_noise eps, eps drawn per sample from <paramref name="generators"/>.</summary>
    public torch.Tensor Raise(torch.Tensor x, double sigma, double sigmaHat, SampleGenerators? generators)
    {
        using var eps = StepMath.StepNoise(x, generators, _scheduler);
        return x + eps * (Math.Sqrt(sigmaHat * sigmaHat - sigma * sigma) * _sNoise);
    }

    /// <summary>The training timestep the model is told at <paramref name="sigmaHat"/>, float32 as the sigma-based runs' timesteps.</summary>
    public torch.Tensor Timestep(double sigmaHat) => torch.tensor((float)SigmaSchedules.SigmaToTimestep(sigmaHat, _trainSigmas), torch.float32);
}
