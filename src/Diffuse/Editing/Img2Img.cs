using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Sampling;
using static TorchSharp.torch;

namespace Diffuse.Editing;

/// <summary>
/// img2img by SDEdit (Meng et al. 2022, arXiv:2108.01073): noise the input to a level set by the strength s in (0, 1] and
/// run the reverse process from there with any scheduler; s = 1 starts from (almost) pure noise and ignores the input,
/// small s changes little. As diffusers' img2img pipelines: of a run of N steps the last min(floor(N s), N) are taken,
/// the input is noised with the run's own <see cref="SamplingRun.AddNoise"/> to the first of them.
/// </summary>
public static class Img2Img
{
    /// <summary>The step of an N-step run where a strength-<paramref name="strength"/> edit starts (times the run's order).</summary>
    public static int StartStep(int steps, double strength, int order = 1)
    {
        CheckStrength(strength);
        int taken = Math.Min((int)(steps * strength), steps);
        return (steps - taken) * order;
    }

    public static void CheckStrength(double strength)
    {
        if (!(strength > 0 && strength <= 1)) throw DiffuseException.For("strength", $"strength must lie in (0, 1], got {strength}");
    }

    /// <summary>
    /// Edits <paramref name="images"/> [B, C, H, W] (model space) with <paramref name="denoise"/> and an N =
    /// <paramref name="steps"/> run of <paramref name="scheduler"/>; image k's noise comes from a generator of its own, keyed
    /// by one draw of <paramref name="generator"/> and k (<see cref="SampleSeeds"/>), so its edit does not depend on the
    /// other images. A strength too small to take a single step returns the input unchanged.
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> denoise, IScheduler scheduler, int steps, double strength, Tensor images,
        Generator generator, IProgress<StepInfo>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var generators = SampleSeeds.Draw(generator).Batch(0, images.shape[0]);
        return Run(denoise, scheduler, steps, strength, images, generators, progress);
    }

    /// <summary>As <see cref="Run(Func{Tensor, Tensor, Tensor}, IScheduler, int, double, Tensor, Generator, IProgress{StepInfo}?)"/>, with the batch's generators given (one batch of a longer run: <see cref="SampleSeeds.Batch"/>).</summary>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> denoise, IScheduler scheduler, int steps, double strength, Tensor images,
        SampleGenerators generators, IProgress<StepInfo>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(generators);
        CheckStrength(strength);
        var run = scheduler.Begin(steps);
        int start = StartStep(steps, strength, run.Order);
        long count = run.Timesteps.shape[0];
        if (start >= count) return images.clone();
        using var scope = NewDisposeScope();
        var noise = generators.RandnLike(images);
        var x = run.AddNoise(images, noise, run.Timesteps[start]);
        return SamplingLoop.Continue(denoise, run, x, start, generators, progress).MoveToOuterDisposeScope();
    }
}
