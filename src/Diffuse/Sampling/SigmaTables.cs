using Diffuse.Configuration;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>The inference sigmas and timesteps of one run of a sigma-based scheduler.</summary>
/// <param name="Timesteps">n fractional timesteps, descending, float32 values.</param>
/// <param name="Sigmas">n + 1 sigmas (the last is the final sigma), float32 values.</param>
internal sealed record SigmaPlan(double[] Timesteps, double[] Sigmas, double InitNoiseSigma, double[] TrainSigmas)
{
    /// <summary>The noise levels of a one-stage run: sigma i at step i.</summary>
    public NoiseLevels OneStageLevels() => new(Timesteps, Sigmas, TrainSigmas, variancePreserving: false);

    /// <summary>The noise levels of a two-stage run (Heun, KDPM2) visiting <paramref name="timesteps"/>: diffusers' sigmas [s0, s1, s1, s2, s2, ...].</summary>
    public NoiseLevels TwoStageLevels(double[] timesteps) => new(timesteps, SigmaTables.RepeatTail(Sigmas), TrainSigmas, variancePreserving: false);
}

/// <summary>
/// The tables a sigma-based scheduler keeps (config, noise schedule, training sigmas) and the way diffusers'
/// <c>set_timesteps</c> turns them into a run's sigmas: timesteps by <c>timestep_spacing</c> (default
/// <c>linspace</c>, fractional), sigmas interpolated linearly in t, optionally replaced by Karras or exponential
/// sigmas whose timesteps are solved back by log-sigma interpolation, then the final sigma appended.
/// </summary>
internal sealed class SigmaTables
{
    private readonly NoiseSchedule _schedule;
    private readonly double[] _trainSigmas;
    private volatile NoiseLevels _lastRun;

    /// <param name="finalSigmaMin">Whether the scheduler takes <c>final_sigmas_type sigma_min</c> (diffusers' Euler does, the others always end at 0).</param>
    /// <param name="takesNoiseSampler">Whether its steps draw noise that <c>noise_sampler brownian_tree</c> can replace.</param>
    /// <param name="supported">The prediction types the scheduler accepts (null: all).</param>
    /// <param name="takesChurn">Whether it takes EDM's churn keys (Euler and Heun).</param>
    public SigmaTables(SchedulerConfig config, string scheduler, bool finalSigmaMin = false, bool takesNoiseSampler = false, IReadOnlyList<PredictionType>? supported = null,
        bool takesChurn = false)
    {
        ConfigValidation.Check(config, scheduler, takesNoiseSampler, takesChurn);
        ConfigValidation.CheckPredictionType(config, scheduler, supported ?? ConfigValidation.AllPredictionTypes);
        if (config.UseKarrasSigmas && config.UseExponentialSigmas)
            throw new DiffuseException($"{scheduler}: use_karras_sigmas and use_exponential_sigmas cannot both be true");
        if (!finalSigmaMin && config.FinalSigmasType == FinalSigmasType.SigmaMin)
            throw new DiffuseException($"{scheduler}: final_sigmas_type sigma_min is not supported; this scheduler always ends at sigma 0");
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        // float32 like diffusers; a zero-terminal-SNR abar of 0 becomes 2^-24 so that sigma stays finite.
        _trainSigmas = _schedule.AlphasCumprod.Select(a => (double)MathF.Sqrt((1f - Math.Max((float)a, 1f / (1 << 24))) / Math.Max((float)a, 1f / (1 << 24)))).ToArray();
        _lastRun = NoiseLevels.Training(_trainSigmas, variancePreserving: false);
    }

    public SchedulerConfig Config { get; }

    public PredictionType PredictionType => Config.PredictionType;

    /// <summary>x0 + sigma noise at the level of t in the last run begun, else on the training schedule (<see cref="IScheduler.AddNoise"/>).</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _lastRun.AddNoise(x0, noise, t);

    /// <summary>Remembers <paramref name="run"/>'s noise levels for <see cref="AddNoise"/>, as diffusers' schedulers remember their last <c>set_timesteps</c>.</summary>
    public TRun Track<TRun>(TRun run) where TRun : SigmaRun
    {
        if (run.Levels is { } levels) _lastRun = levels;
        return run;
    }

    /// <summary>[v0, v1, v1, v2, v2, ...]: the two-stage methods' layout (diffusers' <c>cat([v[:1], v[1:].repeat_interleave(2)])</c>).</summary>
    public static double[] RepeatTail(double[] v) => v.Take(1).Concat(v.Skip(1).SelectMany(x => new[] { x, x })).ToArray();

    /// <summary>
    /// exp(lerp(log a_i, log b_i, 1/2)), the log-space midpoints of the KDPM2 schedulers, computed as diffusers does
    /// (<c>a.log().lerp(b.log(), 0.5).exp()</c> on float32 tensors, whose rounding the solver's sums feel); 0 where
    /// either is 0.
    /// </summary>
    public static double[] LogMidpoints(double[] a, double[] b)
    {
        using var scope = torch.NewDisposeScope();
        var from = torch.tensor(a.Select(v => (float)v).ToArray(), torch.float32);
        var to = torch.tensor(b.Select(v => (float)v).ToArray(), torch.float32);
        var mid = from.log().lerp(to.log(), 0.5).exp().data<float>().ToArray();
        return a.Select((v, i) => v > 0 && b[i] > 0 ? mid[i] : 0.0).ToArray();
    }

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
