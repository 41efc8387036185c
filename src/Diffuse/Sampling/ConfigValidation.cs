namespace Diffuse.Sampling;

/// <summary>Checks every scheduler runs on its config, so that a bad value fails at creation with one line.</summary>
internal static class ConfigValidation
{
    public static void Check(SchedulerConfig config, string scheduler)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.UnknownKeys is { Count: > 0 } unknown)
            throw new DiffuseException($"unknown scheduler config key '{unknown.Keys.First()}' for {scheduler}");
        if (config.NumTrainTimesteps < 1)
            throw new DiffuseException($"{scheduler}: num_train_timesteps must be at least 1, got {config.NumTrainTimesteps}");
        if (!(config.Eta >= 0) || double.IsInfinity(config.Eta))
            throw new DiffuseException($"{scheduler}: eta must be a finite number >= 0, got {config.Eta}");
        if (!(config.ClipSampleRange > 0))
            throw new DiffuseException($"{scheduler}: clip_sample_range must be > 0, got {config.ClipSampleRange}");
        if (config.StepsOffset < 0 || config.StepsOffset >= config.NumTrainTimesteps)
            throw new DiffuseException($"{scheduler}: steps_offset must be in [0, {config.NumTrainTimesteps}), got {config.StepsOffset}");
    }

    /// <summary>The keys the multistep solvers (DPM-Solver, UniPC) share.</summary>
    public static void CheckMultistep(SchedulerConfig config, string scheduler, int maxOrder)
    {
        Check(config, scheduler);
        if (config.SolverOrder < 1 || config.SolverOrder > maxOrder)
            throw new DiffuseException($"{scheduler}: solver_order must be in [1, {maxOrder}], got {config.SolverOrder}");
        if (config.UseKarrasSigmas && config.UseExponentialSigmas)
            throw new DiffuseException($"{scheduler}: use_karras_sigmas and use_exponential_sigmas exclude each other; set one");
        if (double.IsNaN(config.LambdaMinClipped))
            throw new DiffuseException($"{scheduler}: lambda_min_clipped must be a number (-Infinity for no clipping), got NaN");
        if (!(config.DynamicThresholdingRatio > 0 && config.DynamicThresholdingRatio <= 1))
            throw new DiffuseException($"{scheduler}: dynamic_thresholding_ratio must be in (0, 1], got {config.DynamicThresholdingRatio}");
        if (!(config.SampleMaxValue > 0) || double.IsInfinity(config.SampleMaxValue))
            throw new DiffuseException($"{scheduler}: sample_max_value must be a finite number > 0, got {config.SampleMaxValue}");
    }
}
