using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>Math that several schedulers share: picking timesteps, clipping x_0, reading t, drawing step noise.</summary>
public static class StepMath
{
    /// <summary>
    /// The inference timesteps, descending, as diffusers' <c>set_timesteps</c> picks them (Lin et al. 2023,
    /// arXiv:2305.08891, Table 2): <c>leading</c> k*floor(T/n) + steps_offset; <c>trailing</c>
    /// round(T - k*T/n) - 1; <c>linspace</c> round(k*(T-1)/(n-1)). Rounding is half-to-even, like NumPy.
    /// </summary>
    public static long[] Timesteps(TimestepSpacing spacing, int numTrainTimesteps, int numInferenceSteps, int stepsOffset)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > numTrainTimesteps)
            throw new DiffuseException($"number of inference steps must be in [1, {numTrainTimesteps}] (num_train_timesteps), got {numInferenceSteps}");
        var n = numInferenceSteps;
        var timesteps = new long[n];
        for (var k = 0; k < n; k++)
        {
            timesteps[n - 1 - k] = spacing switch
            {
                TimestepSpacing.Leading => (long)k * (numTrainTimesteps / n) + stepsOffset,
                TimestepSpacing.Trailing => (long)Math.Round(numTrainTimesteps - (n - 1 - k) * ((double)numTrainTimesteps / n)) - 1,
                _ => n == 1 ? 0 : (long)Math.Round(k * ((numTrainTimesteps - 1.0) / (n - 1))),
            };
        }
        if (spacing == TimestepSpacing.Linspace && n > 1) timesteps[0] = numTrainTimesteps - 1; // NumPy's linspace ends exactly at stop
        if (timesteps[0] >= numTrainTimesteps || timesteps[^1] < 0)
            throw new DiffuseException($"timestep {timesteps[0]} (steps_offset {stepsOffset}) is outside [0, {numTrainTimesteps}); lower steps_offset or the number of steps");
        return timesteps;
    }

    /// <summary>The predicted x_0 clamped to [-clip_sample_range, clip_sample_range] when <c>clip_sample</c> is on (by default when unset: <paramref name="byDefault"/>).</summary>
    public static torch.Tensor ClipOriginal(torch.Tensor x0, SchedulerConfig config, bool byDefault = true) =>
        config.ClipSample ?? byDefault ? x0.clamp(-config.ClipSampleRange, config.ClipSampleRange) : x0;

    /// <summary>The timestep held by a scalar or one-element tensor, checked against [0, T).</summary>
    public static long Timestep(torch.Tensor t, int numTrainTimesteps)
    {
        if (t.numel() != 1) throw new DiffuseException($"a step takes one timestep, got a tensor of shape [{string.Join(", ", t.shape)}]");
        long value;
        if (t.dtype == torch.int64) value = t.item<long>();
        else
        {
            using var asLong = t.to_type(torch.int64);
            value = asLong.item<long>();
        }
        if (value < 0 || value >= numTrainTimesteps) throw new DiffuseException($"timestep {value} is outside [0, {numTrainTimesteps})");
        return value;
    }

    /// <summary>One standard normal draw of <paramref name="like"/>'s shape for a stochastic step; no generator is an error.</summary>
    public static torch.Tensor StepNoise(torch.Tensor like, torch.Generator? generator, string scheduler) =>
        generator is null
            ? throw new DiffuseException($"{scheduler}: this step draws noise and needs a torch.Generator; pass one to Step")
            : Process.Noise.RandnLike(like, generator);

    /// <summary>A tensor that the run owns for its whole life, outside any dispose scope of the caller.</summary>
    internal static torch.Tensor RunOwned(long[] timesteps) => torch.tensor(timesteps, torch.int64).DetachFromDisposeScope();
}
