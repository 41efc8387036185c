using Diffuse.Sampling;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>A trained model loaded from a model directory, whatever its data: points or images.</summary>
public interface IDiffusionModel : IDisposable
{
    string Directory { get; }
    ModelConfig Config { get; }

    /// <summary>
    /// Creates the named scheduler from the model's noise config, changed by <paramref name="configure"/>; a model whose
    /// data lies in [-1, 1] keeps x_0 there with every scheduler that can (<see cref="Schedulers.ForBoundedData"/>).
    /// A continuous-time SDE model (<see cref="ModelConfig.Sde"/>) has no discrete scheduler: that is a one-line <see cref="DiffuseException"/>.
    /// </summary>
    IScheduler CreateScheduler(string sampler, Func<SchedulerConfig, SchedulerConfig>? configure = null) =>
        Config.Sde is { } sde ? throw sde.DiscreteSchedulerRefusal(Directory, sampler) :
        Schedulers.Create(sampler, Schedulers.ForBoundedData(sampler, configure is null ? Config.Scheduler : configure(Config.Scheduler)));

    /// <summary>
    /// Draws <paramref name="n"/> samples in data space (points [n, dim]; images [n, C, H, W] in
    /// [-1, 1]). Progress counts steps over all batches: <see cref="StepsFor"/> in total.
    /// </summary>
    Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, IProgress<StepInfo>? progress = null);

    /// <summary>The number of progress steps <see cref="Sample"/> reports for <paramref name="n"/> samples.</summary>
    long StepsFor(long n, int steps) => steps;
}
