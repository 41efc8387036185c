using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>One finished step of a sampling loop, for progress reports.</summary>
public sealed record StepInfo(int Step, int TotalSteps, long Timestep);

/// <summary>
/// The sampling loop of DESIGN.md, once: start from Gaussian noise scaled by the run's initial
/// sigma, then for each timestep call the model on the scaled input and let the scheduler step.
/// </summary>
public static class SamplingLoop
{
    /// <param name="model">The denoiser: (x_t, t as int64 [B]) to its prediction.</param>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> model, IScheduler scheduler, int steps, long[] shape, Generator generator, IProgress<StepInfo>? progress = null)
    {
        var run = scheduler.Begin(steps);
        long[] timesteps = run.Timesteps.data<long>().ToArray();
        using var _ = no_grad();
        var x = randn(shape, generator: generator);
        if (run.InitNoiseSigma != 1.0) { var scaled = x * run.InitNoiseSigma; x.Dispose(); x = scaled; }
        for (int i = 0; i < timesteps.Length; i++)
        {
            using var scope = NewDisposeScope();
            var t = tensor(timesteps[i]);
            var tBatch = full(new[] { shape[0] }, timesteps[i], ScalarType.Int64);
            var output = model(run.ScaleModelInput(x, t), tBatch);
            var next = run.Step(output, t, x, generator).PrevSample.MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
            NativeMemory.ReleaseFreedEvery(i + 1, 10);
            progress?.Report(new StepInfo(i + 1, timesteps.Length, timesteps[i]));
        }
        return x;
    }
}
