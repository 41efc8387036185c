using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;
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
        SchedulerFor(this, sampler, configure);

    /// <summary>What <see cref="CreateScheduler"/> does, for the models that expose it as their own method.</summary>
    internal static IScheduler SchedulerFor(IDiffusionModel model, string sampler, Func<SchedulerConfig, SchedulerConfig>? configure) =>
        model.Config.Sde is { } sde ? throw sde.DiscreteSchedulerRefusal(model.Directory, sampler) :
        Schedulers.Create(sampler, Schedulers.ForBoundedData(sampler, configure is null ? model.Config.Scheduler : configure(model.Config.Scheduler)));

    /// <summary>
    /// Draws <paramref name="n"/> samples in data space (points [n, dim]; images [n, C, H, W] in
    /// [-1, 1]). Progress counts steps over all batches: <see cref="StepsFor"/> in total.
    /// </summary>
    Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, IProgress<StepInfo>? progress = null) =>
        Sample(n, scheduler, steps, generator, null, progress);

    /// <summary>
    /// As <see cref="Sample(long, IScheduler, int, Generator, IProgress{StepInfo}?)"/>, with what <paramref name="conditioning"/>
    /// gives the network (null: nothing); the plan validates itself against the model first.
    /// </summary>
    Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, ISamplingConditioning? conditioning, IProgress<StepInfo>? progress = null);

    /// <summary>The number of progress steps <see cref="Sample(long, IScheduler, int, Generator, IProgress{StepInfo}?)"/> reports for <paramref name="n"/> samples.</summary>
    long StepsFor(long n, int steps) => steps;

    /// <summary>The network as a function (model-space x_t [B, ...], timesteps [B]) → float32 output, whatever its precision.</summary>
    Tensor Denoise(Tensor x, Tensor t);

    /// <summary>The model in the score-SDE view with an N = <paramref name="steps"/> step discretisation.</summary>
    ScoreModel ScoreView(int steps) => ScoreModel.For(Config, Denoise, steps);

    /// <summary>
    /// Draws <paramref name="n"/> samples in data space with a score-based sampler (<see cref="ScoreSamplers"/>), as
    /// <see cref="Sample(long, IScheduler, int, Generator, IProgress{StepInfo}?)"/> does with a scheduler; the result counts the network evaluations per sample.
    /// Progress counts <see cref="ScoreStepsFor"/> steps in total.
    /// </summary>
    ScoreSample SampleScore(long n, ScoreSamplerSettings settings, Generator generator, IProgress<StepInfo>? progress = null);

    /// <summary>The number of progress steps <see cref="SampleScore"/> reports for <paramref name="n"/> samples.</summary>
    long ScoreStepsFor(long n, ScoreSamplerSettings settings) => ScoreSamplers.PlannedEvaluations(settings) ?? 1000;
}
