using Diffuse.Configuration;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// The noise levels of one multistep run (DPM-Solver, UniPC) as diffusers' <c>set_timesteps</c> of those
/// schedulers picks them: n timesteps and n + 1 sigmas (the last one <c>final_sigmas_type</c>'s), stored
/// as float32 values like diffusers' <c>scheduler.sigmas</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>sigma</term><description>sqrt((1 - abar) / abar), the sigma of Karras et al. 2022</description></item>
/// <item><term>alpha_t, sigma_t</term><description>1 / sqrt(sigma^2 + 1) and sigma alpha_t: x_t = alpha_t x_0 + sigma_t eps (Lu et al. 2022, arXiv:2206.00927, Sec. 2)</description></item>
/// <item><term>lambda</term><description>log(alpha_t / sigma_t), the half log-SNR (Lu et al. 2022, Sec. 3.1)</description></item>
/// </list>
/// </remarks>
internal sealed class MultistepSchedule
{
    private readonly long[] _timesteps;
    private readonly double[] _sigmas;

    private MultistepSchedule(long[] timesteps, double[] sigmas, double[] trainSigmas)
    {
        _timesteps = timesteps;
        _sigmas = sigmas;
        TimestepsTensor = StepMath.RunOwned(timesteps);
        Levels = new NoiseLevels(timesteps.Select(t => (double)t), sigmas, trainSigmas, variancePreserving: true);
    }

    /// <summary>The levels diffusers' multistep <c>add_noise</c> reads: alpha_t x0 + sigma_t noise at sigma i for step i.</summary>
    public NoiseLevels Levels { get; }

    /// <summary>The n + 1 sigmas, float32 values.</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <summary>The levels of no run (every t on the training schedule), for a scheduler that has begun none.</summary>
    public static NoiseLevels TrainingLevels(NoiseSchedule schedule) =>
        NoiseLevels.Training(Enumerable.Range(0, schedule.NumTrainTimesteps).Select(schedule.Sigma).ToArray(), variancePreserving: true);

    public torch.Tensor TimestepsTensor { get; }

    /// <summary>The number of steps n.</summary>
    public int Count => _timesteps.Length;

    public bool EndsAtZero => _sigmas[^1] == 0;

    public double Sigma(int i) => _sigmas[i];
    public double Alpha(int i) => 1 / Math.Sqrt(_sigmas[i] * _sigmas[i] + 1);
    public double SigmaT(int i) => _sigmas[i] * Alpha(i);
    public double Lambda(int i) => Math.Log(Alpha(i)) - Math.Log(SigmaT(i));

    /// <summary>abar = alpha_t^2 at index i, for <see cref="Process.GaussianDiffusion"/>'s conversions.</summary>
    public double AlphaCumprod(int i) => 1 / (_sigmas[i] * _sigmas[i] + 1);

    /// <summary>
    /// The index of the step at <paramref name="t"/>: on the first step the (second, when repeated) match in the
    /// timesteps, as diffusers' <c>index_for_timestep</c>, so a run may start part-way (img2img); then the next one.
    /// </summary>
    public int NextIndex(int current, long t, string scheduler)
    {
        if (current < 0)
        {
            var matches = Enumerable.Range(0, Count).Where(k => _timesteps[k] == t).ToArray();
            if (matches.Length == 0) throw new DiffuseException($"{scheduler}: timestep {t} is not one of this run's timesteps");
            return matches.Length > 1 ? matches[1] : matches[0];
        }
        if (current + 1 >= Count) throw new DiffuseException($"{scheduler}: the run's {Count} steps are done; begin a new run");
        if (_timesteps[current + 1] != t)
            throw new DiffuseException($"{scheduler}: expected timestep {_timesteps[current + 1]} next, got {t}; steps must follow the run's timesteps");
        return current + 1;
    }

    /// <param name="roundKarrasTimesteps">Round the Karras timesteps (diffusers' DPM-Solver skips that for <c>squaredcos_cap_v2</c>, and its int64 cast truncates).</param>
    /// <param name="lambdaMinClipped">DPM-Solver's <c>lambda_min_clipped</c>: the training timesteps whose half log-SNR lies below it are left out of the spacing.</param>
    public static MultistepSchedule Create(SchedulerConfig c, NoiseSchedule schedule, int n, string scheduler, bool roundKarrasTimesteps = true,
        double lambdaMinClipped = double.NegativeInfinity)
    {
        var T = c.NumTrainTimesteps;
        if (n < 1 || n > T) throw new DiffuseException($"number of inference steps must be in [1, {T}] (num_train_timesteps), got {n}");
        var clipped = ClippedCount(schedule, lambdaMinClipped);
        var trainSigmas = Enumerable.Range(0, T).Select(schedule.Sigma).ToArray();
        var spacing = c.TimestepSpacing ?? TimestepSpacing.Linspace;
        long[] timesteps;
        double[] sigmas;
        if (c.UseKarrasSigmas || c.UseExponentialSigmas)
        {
            sigmas = c.UseKarrasSigmas ? SigmaSchedules.Karras(n, trainSigmas[0], trainSigmas[^1]) : SigmaSchedules.Exponential(n, trainSigmas[0], trainSigmas[^1]);
            // diffusers rounds the Karras timesteps and truncates the exponential ones (its int64 cast).
            timesteps = sigmas.Select(s => SigmaSchedules.SigmaToTimestep(s, trainSigmas))
                .Select(t => c.UseKarrasSigmas && roundKarrasTimesteps ? (long)Math.Round(t) : (long)t).ToArray();
        }
        else
        {
            if (clipped > 0 && spacing == TimestepSpacing.Trailing)
                throw new DiffuseException($"{scheduler}: lambda_min_clipped {lambdaMinClipped} leaves out {clipped} timesteps, which trailing spacing does not support; use linspace or leading");
            if (clipped >= T) throw new DiffuseException($"{scheduler}: lambda_min_clipped {lambdaMinClipped} leaves out every timestep; lower it");
            timesteps = Timesteps(spacing, T, n, c.StepsOffset, clipped);
            for (var i = 1; i < n; i++)
                if (timesteps[i] >= timesteps[i - 1])
                    throw new DiffuseException($"{scheduler}: {n} steps with timestep_spacing {spacing.ToString().ToLowerInvariant()} repeat timesteps (diffusers would take zero-length steps); use fewer steps or trailing spacing");
            if (timesteps[0] >= T) throw new DiffuseException($"{scheduler}: timestep {timesteps[0]} (steps_offset {c.StepsOffset}) is outside [0, {T}); lower steps_offset");
            sigmas = timesteps.Select(t => trainSigmas[t]).ToArray();
        }
        var last = (c.FinalSigmasType ?? FinalSigmasType.Zero) == FinalSigmasType.SigmaMin ? trainSigmas[0] : 0.0;
        return new MultistepSchedule(timesteps, sigmas.Append(last).Select(s => (double)(float)s).ToArray(), trainSigmas);
    }

    /// <summary>
    /// diffusers' multistep timesteps: <c>linspace</c> round(k (L-1)/n) and <c>leading</c> k floor(L/(n+1)) + steps_offset
    /// for k = n .. 1 (n + 1 points with the last dropped), L = T - <paramref name="clipped"/>; <c>trailing</c>
    /// round(T - k T/n) - 1 for k = 0 .. n-1.
    /// </summary>
    public static long[] Timesteps(TimestepSpacing spacing, int T, int n, int stepsOffset, int clipped = 0)
    {
        var last = T - clipped;
        return spacing switch
        {
            TimestepSpacing.Linspace => Enumerable.Range(0, n).Select(j => n - j == n ? last - 1L : (long)Math.Round((n - j) * ((last - 1.0) / n))).ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, n).Select(j => (long)(n - j) * (last / (n + 1)) + stepsOffset).ToArray(),
            _ => Enumerable.Range(0, n).Select(j => (long)Math.Round(T - j * ((double)T / n)) - 1).ToArray(),
        };
    }

    /// <summary>
    /// How many training timesteps have a half log-SNR lambda = log(sqrt(abar) / sqrt(1 - abar)) (float32, as diffusers'
    /// <c>lambda_t</c>) below <paramref name="lambdaMin"/>: diffusers' <c>searchsorted(flip(lambda_t), lambda_min_clipped)</c>.
    /// </summary>
    private static int ClippedCount(NoiseSchedule schedule, double lambdaMin) =>
        double.IsNegativeInfinity(lambdaMin) ? 0
            : schedule.AlphasCumprod.Select(a => (float)a).Count(a => MathF.Log(MathF.Sqrt(a)) - MathF.Log(MathF.Sqrt(1f - a)) < lambdaMin);
}
