using Diffuse.Process;
using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>One finished step of a sampling loop, for progress reports.</summary>
public sealed record StepInfo(int Step, int TotalSteps, double Timestep)
{
    /// <summary>Reports to <paramref name="inner"/> with <paramref name="done"/> steps added and the total <paramref name="total"/>: one batch or stage of a longer run.</summary>
    public static IProgress<StepInfo> Offset(IProgress<StepInfo> inner, int done, int total) =>
        SyncProgress.Map<StepInfo, StepInfo>(inner, value => value with { Step = done + value.Step, TotalSteps = total });

    /// <summary>Turns a score sampler's (done, total, time) reports into step reports to <paramref name="inner"/>.</summary>
    public static IProgress<(long Done, long Total, double Time)> FromScoreSampler(IProgress<StepInfo> inner) =>
        SyncProgress.Map<(long Done, long Total, double Time), StepInfo>(inner,
            value => new StepInfo((int)Math.Min(int.MaxValue, value.Done), (int)Math.Min(int.MaxValue, value.Total), value.Time));
}

/// <summary>
/// The sampling loop of DESIGN.md, once: start from Gaussian noise scaled by the run's initial
/// sigma, then for each timestep let the run prepare the step (EDM's churn, where configured), call
/// the model on what it prepared, scaled, and let the scheduler step from there.
/// Every draw comes from the batch's <see cref="SampleGenerators"/>: one per sample in the pipelines,
/// so that sample k is the same at any batch size; a <see cref="Generator"/> passed here is shared
/// by the whole batch.
/// </summary>
public static class SamplingLoop
{
    /// <param name="model">The denoiser: (x_t, t [B] in the run's timestep dtype: int64, or float for sigma-based runs) to its prediction.</param>
    /// <param name="generators">The batch's generators: the starting noise is their <see cref="SampleGenerators.Randn"/>, and every step draws from them.</param>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> model, IScheduler scheduler, int steps, long[] shape, SampleGenerators generators, IProgress<StepInfo>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(generators);
        var run = scheduler.Begin(steps);
        // Discrete schedulers give int64 timesteps, sigma-based ones fractional float timesteps; the
        // model receives each in the run's own dtype.
        var x = generators.Randn(shape);
        if (run.InitNoiseSigma != 1.0) { var scaled = x * run.InitNoiseSigma; x.Dispose(); x = scaled; }
        return Continue(model, run, x, 0, generators, progress);
    }

    /// <summary>
    /// The loop from the run's step <paramref name="start"/> on, starting at <paramref name="x"/> (which it takes over): an
    /// img2img start is <c>run.AddNoise(x0, noise, run.Timesteps[start])</c>. Progress counts the steps from
    /// <paramref name="start"/>.
    /// </summary>
    public static Tensor Continue(Func<Tensor, Tensor, Tensor> model, SamplingRun run, Tensor x, int start, SampleGenerators generators, IProgress<StepInfo>? progress = null)
    {
        long count = run.Timesteps.shape[0];
        if (start < 0 || start > count) throw new DiffuseException($"a sampling run of {count} steps cannot start at step {start}");
        double[] values;
        using (var asDouble = run.Timesteps.to_type(ScalarType.Float64)) values = asDouble.data<double>().ToArray();
        using var _ = no_grad();
        long[] shape = x.shape;
        for (int i = start; i < count; i++)
        {
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            var t = run.Timesteps[i];
            var input = run.PrepareStep(x, t, generators);
            var output = model(run.ScaleModelInput(input.Sample, t), input.Timestep.expand(shape[0]));
            var next = run.Step(output, t, input.Sample, generators).PrevSample.MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
            NativeMemory.ReleaseFreedEvery(i + 1, 10);
            progress?.Report(new StepInfo(i + 1 - start, (int)(count - start), values[i]));
        }
        try
        {
            return FiniteSamples.Require(x);
        }
        catch
        {
            x.Dispose();
            throw;
        }
    }
}
