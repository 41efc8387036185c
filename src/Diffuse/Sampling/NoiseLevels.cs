using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// The noise level at each timestep of one run, for adding noise as diffusers' <c>add_noise</c> of the sigma-based
/// and multistep schedulers does: the sigma of the run at the step index of t (<c>index_for_timestep</c>: the second
/// match when t repeats), then x0 + sigma noise (the sigma-based ones, Karras et al. 2022, arXiv:2206.00364, Eq. 1)
/// or alpha_t x0 + sigma_t noise with alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma alpha_t (the multistep ones,
/// Lu et al. 2022, arXiv:2206.00927, Sec. 2). A t that is not one of the run's timesteps (diffusers fails on it,
/// or its DPM-Solver takes the last step's sigma) is read on the training schedule instead: sigma interpolated
/// linearly between the training sigmas, which at an integer training timestep is that timestep's sigma, so that
/// the result is q(x_t | x_0) there, in the scheduler's own parameterisation.
/// </summary>
internal sealed class NoiseLevels
{
    private readonly float[] _timesteps;
    private readonly double[] _sigmas;
    private readonly IReadOnlyList<double> _trainSigmas;
    private readonly bool _variancePreserving;

    /// <param name="timesteps">The run's timesteps, as it visits them.</param>
    /// <param name="sigmas">The sigma at each step index (diffusers' <c>scheduler.sigmas</c>), at least one per timestep.</param>
    /// <param name="trainSigmas">sqrt((1 - abar_t) / abar_t) at every training timestep.</param>
    /// <param name="variancePreserving">alpha_t x0 + sigma_t noise (multistep) rather than x0 + sigma noise (sigma-based).</param>
    public NoiseLevels(IEnumerable<double> timesteps, IReadOnlyList<double> sigmas, IReadOnlyList<double> trainSigmas, bool variancePreserving)
    {
        _timesteps = timesteps.Select(t => (float)t).ToArray();
        _sigmas = sigmas.ToArray();
        _trainSigmas = trainSigmas;
        _variancePreserving = variancePreserving;
    }

    /// <summary>The levels of no run: every t read on the training schedule.</summary>
    public static NoiseLevels Training(IReadOnlyList<double> trainSigmas, bool variancePreserving) => new([], [], trainSigmas, variancePreserving);

    /// <summary>The sigma at timestep <paramref name="t"/>.</summary>
    public double Sigma(double t)
    {
        var value = (float)t;
        var matches = Enumerable.Range(0, _timesteps.Length).Where(i => _timesteps[i] == value).Take(2).ToArray();
        if (matches.Length > 0) return _sigmas[matches[^1]];
        if (!(t >= 0 && t <= _trainSigmas.Count - 1))
            throw new DiffuseException($"timestep {t} is outside [0, {_trainSigmas.Count - 1}]");
        return SigmaSchedules.Interpolate(t, _trainSigmas);
    }

    /// <summary>x0 noised to the level of <paramref name="t"/> (one timestep, or one per sample).</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t)
    {
        double[] ts;
        using (var asDouble = t.to_type(torch.float64).flatten()) ts = asDouble.data<double>().ToArray();
        if (ts.Length != 1 && ts.Length != x0.shape[0])
            throw new DiffuseException($"add_noise takes one timestep or one per sample, got {ts.Length} for a batch of {x0.shape[0]}");
        using var scope = torch.NewDisposeScope();
        var shape = new long[x0.dim()];
        Array.Fill(shape, 1L);
        shape[0] = ts.Length;
        // float32 sigmas in the sample's dtype, as diffusers' scheduler.sigmas.
        var sigma = torch.tensor(ts.Select(v => (float)Sigma(v)).ToArray(), torch.float32).to(x0.dtype, x0.device).reshape(shape);
        if (!_variancePreserving) return (x0 + noise * sigma).MoveToOuterDisposeScope();
        var alpha = 1 / (sigma * sigma + 1).sqrt();
        return (alpha * x0 + sigma * alpha * noise).MoveToOuterDisposeScope();
    }
}
