using Diffuse.Configuration;
using Diffuse.IO;

namespace Diffuse.Sampling;

/// <summary>Checks every scheduler runs on its config, so that a bad value fails at creation with one line.</summary>
internal static class ConfigValidation
{
    /// <param name="takesNoiseSampler">Whether the scheduler's steps draw noise that <c>noise_sampler brownian_tree</c> can replace.</param>
    /// <param name="takesChurn">Whether the scheduler takes EDM's churn (<c>s_churn</c>, <c>s_tmin</c>, <c>s_tmax</c>, <c>s_noise</c>).</param>
    public static void Check(SchedulerConfig config, string scheduler, bool takesNoiseSampler = false, bool takesChurn = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.UnknownKeys is { Count: > 0 } unknown)
            throw new DiffuseException($"unknown scheduler config key '{unknown.Keys.First()}' for {scheduler}");
        if (config.NumTrainTimesteps < 1)
            throw new DiffuseException($"{scheduler}: num_train_timesteps must be at least 1, got {config.NumTrainTimesteps}");
        if (config.NumTrainTimesteps > Limits.TrainTimesteps)
            throw new DiffuseException($"{scheduler}: num_train_timesteps must be at most {Limits.TrainTimesteps}, got {config.NumTrainTimesteps}");
        if (!(config.Eta >= 0) || double.IsInfinity(config.Eta))
            throw new DiffuseException($"{scheduler}: eta must be a finite number >= 0, got {config.Eta}");
        if (!(config.ClipSampleRange > 0))
            throw new DiffuseException($"{scheduler}: clip_sample_range must be > 0, got {config.ClipSampleRange}");
        if (config.StepsOffset < 0 || config.StepsOffset >= config.NumTrainTimesteps)
            throw new DiffuseException($"{scheduler}: steps_offset must be in [0, {config.NumTrainTimesteps}), got {config.StepsOffset}");
        if (config.NoiseSampler != NoiseSampler.Gaussian && !takesNoiseSampler)
            throw new DiffuseException($"{scheduler}: noise_sampler {IO.Json.Name(config.NoiseSampler)} applies to stochastic sigma-based and SDE samplers (euler_ancestral, dpm2_ancestral, dpmpp_2s_ancestral, dpmpp_2m_sde, dpmpp_3m_sde, and dpmpp_2m or dpmpp_2s with an sde algorithm_type)");
        CheckChurn(config, scheduler, takesChurn);
    }

    /// <summary>The churn keys: only where the scheduler takes them, S_churn and S_noise finite and &gt;= 0, 0 &lt;= S_tmin &lt;= S_tmax.</summary>
    private static void CheckChurn(SchedulerConfig config, string scheduler, bool takesChurn)
    {
        if (!takesChurn)
        {
            var set = new (string Key, double? Value)[] { ("s_churn", config.SChurn), ("s_tmin", config.STmin), ("s_tmax", config.STmax), ("s_noise", config.SNoise) }
                .FirstOrDefault(k => k.Value is not null);
            if (set.Key is not null) throw new DiffuseException($"{scheduler}: {set.Key} (EDM's churn) applies to the euler and heun samplers only");
            return;
        }
        if (config.SChurn is double churn && !(churn >= 0 && double.IsFinite(churn)))
            throw new DiffuseException($"{scheduler}: s_churn must be a finite number >= 0, got {churn}");
        if (config.SNoise is double noise && !(noise >= 0 && double.IsFinite(noise)))
            throw new DiffuseException($"{scheduler}: s_noise must be a finite number >= 0, got {noise}");
        double min = config.STmin ?? 0, max = config.STmax ?? double.PositiveInfinity;
        if (!(min >= 0 && double.IsFinite(min)))
            throw new DiffuseException($"{scheduler}: s_tmin must be a finite number >= 0, got {min}");
        if (!(max >= min))
            throw new DiffuseException($"{scheduler}: s_tmax must be at least s_tmin ({min}), got {max}");
    }

    /// <summary>The keys the multistep solvers (DPM-Solver, UniPC) share.</summary>
    public static void CheckMultistep(SchedulerConfig config, string scheduler, int maxOrder, bool takesNoiseSampler = false)
    {
        Check(config, scheduler, takesNoiseSampler);
        if (config.SolverOrder < 1 || config.SolverOrder > maxOrder)
            throw new DiffuseException($"{scheduler}: solver_order must be in [1, {maxOrder}], got {config.SolverOrder}");
        if (config.UseKarrasSigmas && config.UseExponentialSigmas)
            throw new DiffuseException($"{scheduler}: use_karras_sigmas and use_exponential_sigmas exclude each other; set one");
        if (double.IsNaN(config.LambdaMinClipped))
            throw new DiffuseException($"{scheduler}: lambda_min_clipped must be a number (-Infinity for no clipping), got NaN");
        CheckThresholding(config, scheduler);
    }

    /// <summary>The keys of dynamic thresholding (Saharia et al. 2022), for the schedulers that offer it.</summary>
    public static void CheckThresholding(SchedulerConfig config, string scheduler)
    {
        if (!(config.DynamicThresholdingRatio > 0 && config.DynamicThresholdingRatio <= 1))
            throw new DiffuseException($"{scheduler}: dynamic_thresholding_ratio must be in (0, 1], got {config.DynamicThresholdingRatio}");
        if (!(config.SampleMaxValue > 0) || double.IsInfinity(config.SampleMaxValue))
            throw new DiffuseException($"{scheduler}: sample_max_value must be a finite number > 0, got {config.SampleMaxValue}");
    }

    /// <summary>Every prediction type, the default of <see cref="IScheduler.SupportedPredictionTypes"/>.</summary>
    public static IReadOnlyList<PredictionType> AllPredictionTypes { get; } = Array.AsReadOnly(Enum.GetValues<PredictionType>());

    /// <summary>epsilon and v_prediction: what diffusers' ancestral Euler and KDPM2 schedulers accept (they raise for <c>sample</c>).</summary>
    public static IReadOnlyList<PredictionType> EpsilonOrV { get; } = Array.AsReadOnly(new[] { PredictionType.Epsilon, PredictionType.VPrediction });

    /// <summary>Refuses a <c>prediction_type</c> outside <paramref name="supported"/>, in one line naming the scheduler, the type and the supported ones.</summary>
    public static void CheckPredictionType(SchedulerConfig config, string scheduler, IReadOnlyList<PredictionType> supported, string? why = null)
    {
        if (supported.Contains(config.PredictionType)) return;
        throw new DiffuseException($"{scheduler}: prediction_type {Json.Name(config.PredictionType)} is not supported{(why is null ? "" : $" ({why})")}; supported: {string.Join(", ", supported.Select(t => Json.Name(t)))}");
    }
}
