using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>The inference sigmas and timesteps of one run of a sigma-based scheduler.</summary>
/// <param name="Timesteps">n fractional timesteps, descending, float32 values.</param>
/// <param name="Sigmas">n + 1 sigmas (the last is the final sigma), float32 values.</param>
internal sealed record SigmaPlan(double[] Timesteps, double[] Sigmas, double InitNoiseSigma, double[] TrainSigmas);

/// <summary>
/// The tables a sigma-based scheduler keeps (config, noise schedule, training sigmas) and the way diffusers'
/// <c>set_timesteps</c> turns them into a run's sigmas: timesteps by <c>timestep_spacing</c> (default
/// <c>linspace</c>, fractional), sigmas interpolated linearly in t, optionally replaced by Karras or exponential
/// sigmas whose timesteps are solved back by log-sigma interpolation, then the final sigma appended.
/// </summary>
internal sealed class SigmaTables
{
    private readonly NoiseSchedule _schedule;
    private readonly GaussianDiffusion _diffusion;
    private readonly double[] _trainSigmas;

    /// <param name="finalSigmaMin">Whether the scheduler takes <c>final_sigmas_type sigma_min</c> (diffusers' Euler does, the others always end at 0).</param>
    /// <param name="supported">The prediction types the scheduler accepts (null: all).</param>
    public SigmaTables(SchedulerConfig config, string scheduler, bool finalSigmaMin = false, IReadOnlyList<PredictionType>? supported = null)
    {
        ConfigValidation.Check(config, scheduler);
        ConfigValidation.CheckPredictionType(config, scheduler, supported ?? ConfigValidation.AllPredictionTypes);
        if (config.UseKarrasSigmas && config.UseExponentialSigmas)
            throw new DiffuseException($"{scheduler}: use_karras_sigmas and use_exponential_sigmas cannot both be true");
        if (!finalSigmaMin && config.FinalSigmasType == FinalSigmasType.SigmaMin)
            throw new DiffuseException($"{scheduler}: final_sigmas_type sigma_min is not supported; this scheduler always ends at sigma 0");
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        _diffusion = new GaussianDiffusion(_schedule, config.PredictionType);
        // float32 like diffusers; a zero-terminal-SNR abar of 0 becomes 2^-24 so that sigma stays finite.
        _trainSigmas = _schedule.AlphasCumprod.Select(a => (double)MathF.Sqrt((1f - Math.Max((float)a, 1f / (1 << 24))) / Math.Max((float)a, 1f / (1 << 24)))).ToArray();
    }

    public SchedulerConfig Config { get; }

    public PredictionType PredictionType => Config.PredictionType;

    /// <summary>q(x_t | x_0) at integer training timesteps (the interface's contract).</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _diffusion.QSample(x0, t, noise);

    /// <summary>[v0, v1, v1, v2, v2, ...]: the two-stage methods' layout (diffusers' <c>cat([v[:1], v[1:].repeat_interleave(2)])</c>).</summary>
    public static double[] RepeatTail(double[] v) => v.Take(1).Concat(v.Skip(1).SelectMany(x => new[] { x, x })).ToArray();

    /// <summary>The timesteps and sigmas of a run of <paramref name="n"/> steps.</summary>
    /// <param name="roundSolvedTimesteps">Round the timesteps solved from Karras or exponential sigmas (KDPM2 does).</param>
    public SigmaPlan Plan(int n, bool roundSolvedTimesteps = false)
    {
        var c = Config;
        var spacing = c.TimestepSpacing ?? TimestepSpacing.Linspace;
        int T = c.NumTrainTimesteps;
        var timesteps = StepMath.Timesteps(spacing, T, n, c.StepsOffset).Select(t => (double)t).ToArray();
        if (spacing == TimestepSpacing.Linspace)
            for (int k = 0; k < n; k++) timesteps[n - 1 - k] = (float)(n == 1 ? 0 : k * ((T - 1.0) / (n - 1)));
        if (spacing == TimestepSpacing.Linspace && n > 1) timesteps[0] = T - 1;
        var sigmas = timesteps.Select(t => SigmaSchedules.Interpolate(t, _trainSigmas)).ToArray();
        if (c.UseKarrasSigmas || c.UseExponentialSigmas)
        {
            sigmas = c.UseKarrasSigmas ? SigmaSchedules.Karras(n, sigmas[^1], sigmas[0]) : SigmaSchedules.Exponential(n, sigmas[^1], sigmas[0]);
            timesteps = sigmas.Select(s => SigmaSchedules.SigmaToTimestep(s, _trainSigmas)).Select(t => (double)(float)(roundSolvedTimesteps ? Math.Round(t) : t)).ToArray();
        }
        var last = c.FinalSigmasType == FinalSigmasType.SigmaMin ? _trainSigmas[0] : 0.0;
        var all = sigmas.Append(last).Select(s => (double)(float)s).ToArray();
        var max = all.Max();
        var init = spacing == TimestepSpacing.Leading ? Math.Sqrt(max * max + 1) : max;
        return new SigmaPlan(timesteps, all, init, _trainSigmas);
    }
}
