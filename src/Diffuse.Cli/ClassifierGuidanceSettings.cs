using Diffuse.Training;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary>The classifier-guidance options of <c>sample</c> and <c>eval</c> (<see cref="ClassifierGuidance"/>).</summary>
public sealed record ClassifierGuidanceSettings(string? Directory, double Scale)
{
    public bool Given => Directory is not null;

    /// <summary>
    /// Loads the classifier, checks that it can guide <paramref name="model"/> with <paramref name="sampler"/>, and
    /// builds the guidance for <paramref name="labels"/> (built from the classifier's class names): sample with <see cref="Attached.Plan"/>.
    /// </summary>
    public Attached Attach(ImageModel model, SamplerSettings sampler, GuidanceSettings guidance, Func<IReadOnlyList<string>, long[]> labels)
    {
        if (guidance.FirstGiven is { } other && other != "class")
            throw new UsageException($"--{other} is classifier-free guidance of class-conditional models; with --classifier use --classifier-scale");
        if (model.IsConditional)
            throw new UsageException($"--classifier guides an unconditional model; '{model.Directory}' is class-conditional: use --class and --guidance");
        if (model.IsTextConditional)
            throw new UsageException($"--classifier guides an unconditional model; '{model.Directory}' is text-conditional: use --prompt and --guidance");
        if (model.Config.SuperRes is not null)
            throw new UsageException($"--classifier guides an unconditional model; '{model.Directory}' is a super-resolution model");
        if (sampler.Score is not null)
            throw new UsageException($"classifier guidance runs with the schedulers; the score sampler '{sampler.Sampler}' cannot take it");
        var (config, network) = NoisyClassifierTraining.Load(Directory!);
        try
        {
            config.CheckGuides(model.Config, Directory!, model.Directory);
            var classNames = config.Image.ClassNames;
            var chosen = labels(classNames);
            var scheduler = model.Config.Scheduler;
            // The model's x_0 clip moves before the guidance (the scheduler then runs unclipped: SamplerSettings.UnclippedScheduler).
            var guide = ClassifierGuidance.For(network, Schedules.NoiseSchedule.FromConfig(scheduler), scheduler.PredictionType, chosen, Scale, model.Image.Channels);
            if (scheduler.ClipSample == true && Scale > 0) guide.ClipRange = scheduler.ClipSampleRange;
            return new Attached(network, classNames, chosen, guide);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Attaches guidance to <paramref name="guidance"/>'s --class of the classifier, or to ceil(n / K) of each class (one grid row
    /// per class): <paramref name="n"/> becomes the number drawn, <paramref name="columns"/> and <paramref name="what"/> the grid and report.
    /// </summary>
    public Attached AttachForSample(ImageModel model, SamplerSettings options, GuidanceSettings guidance, ref int n, ref int? columns, ref string what)
    {
        long count = n;
        var attached = Attach(model, options, guidance, names => guidance.Class is { } chosen
            ? Conditioning.Single(count, ClassLabels.Resolve(chosen, names)).Labels
            : Conditioning.ClassRows(count, names.Count).Labels);
        n = attached.Labels.Length;
        if (guidance.Class is null)
        {
            columns = (int)Conditioning.PerClass(count, attached.ClassNames.Count);
            what = $", one row per class ({columns} each)";
        }
        else
        {
            what = $", class {attached.Labels[0]} '{attached.ClassNames[(int)attached.Labels[0]]}'";
        }
        what += $", classifier scale {Scale:0.###}";
        return attached;
    }

    /// <summary>The attached classifier (disposed with this), its class names, the labels it guides to and its guidance.</summary>
    public sealed record Attached(NoisyClassifier Network, IReadOnlyList<string> ClassNames, long[] Labels, ClassifierGuidance Guidance) : IDisposable
    {
        /// <summary>The sampling plan: unconditional sampling under the classifier's guidance.</summary>
        public ISamplingConditioning Plan => Guidance.Over();

        /// <summary>True when the guidance clips the model's x_0 itself (the scheduler must then run unclipped).</summary>
        public bool ClipsBeforeGuidance => Guidance.ClipRange is not null;

        public void Dispose() => Network.Dispose();
    }
}
