using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>Math that several schedulers share: picking timesteps, clipping x_0, reading t, drawing step noise.</summary>
internal static class StepMath
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

    /// <summary>
    /// The predicted x_0 as DDPM and DDIM hand it on, in diffusers' order: dynamic thresholding when
    /// <c>thresholding</c> (<see cref="DynamicThreshold"/>), else clamping to the clip range when <c>clip_sample</c>.
    /// </summary>
    public static torch.Tensor ThresholdOrClip(torch.Tensor x0, SchedulerConfig config, bool clipByDefault = true) =>
        config.Thresholding ? DynamicThreshold(x0, config.DynamicThresholdingRatio, config.SampleMaxValue) : ClipOriginal(x0, config, clipByDefault);

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

    /// <summary>
    /// One standard normal draw of <paramref name="like"/>'s shape for a stochastic step, per sample or shared as
    /// <paramref name="generators"/> are; none is an error.
    /// </summary>
    public static torch.Tensor StepNoise(torch.Tensor like, SampleGenerators? generators, string scheduler) =>
        generators is null
            ? throw new DiffuseException($"{scheduler}: this step draws noise and needs a torch.Generator; pass one to Step")
            : generators.RandnLike(like);

    /// <summary>
    /// Dynamic thresholding (Saharia et al. 2022, Imagen, arXiv:2205.11487, Sec. 2.3), as diffusers'
    /// <c>_threshold_sample</c>: per sample, s = clamp(quantile(|x_0|, <paramref name="ratio"/>), 1,
    /// <paramref name="maxValue"/>), then x_0 = clamp(x_0, -s, s) / s.
    /// </summary>
    public static torch.Tensor DynamicThreshold(torch.Tensor x0, double ratio, double maxValue)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = x0.dtype;
        var flat = (dtype == torch.float32 || dtype == torch.float64 ? x0 : x0.to_type(torch.float32)).reshape(x0.shape[0], -1);
        using var q = torch.tensor(ratio, flat.dtype, flat.device);
        var s = flat.abs().quantile(q, 1).clamp(1.0, maxValue).unsqueeze(1);
        return (torch.minimum(torch.maximum(flat, -s), s) / s).reshape(x0.shape).to_type(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Solves the small linear system a x = b (Gaussian elimination with partial pivoting) for multistep coefficients.</summary>
    public static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (var c = 0; c < n; c++)
        {
            var p = Enumerable.Range(c, n - c).MaxBy(r => Math.Abs(m[r, c]));
            for (var k = 0; k < n; k++) (m[c, k], m[p, k]) = (m[p, k], m[c, k]);
            (x[c], x[p]) = (x[p], x[c]);
            for (var r = c + 1; r < n; r++)
            {
                var f = m[r, c] / m[c, c];
                for (var k = c; k < n; k++) m[r, k] -= f * m[c, k];
                x[r] -= f * x[c];
            }
        }
        for (var r = n - 1; r >= 0; r--)
        {
            for (var k = r + 1; k < n; k++) x[r] -= m[r, k] * x[k];
            x[r] /= m[r, r];
        }
        return x;
    }

    /// <summary>A tensor that the run owns for its whole life, outside any dispose scope of the caller.</summary>
    internal static torch.Tensor RunOwned(long[] timesteps) => torch.tensor(timesteps, torch.int64).DetachFromDisposeScope();
}
