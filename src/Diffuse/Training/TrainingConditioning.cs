using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// One conditioning kind's part of an image run: what a training micro-batch tells the network beside x_t and t (its random
/// draws taken from the run's generator after the augmentation and before t and the noise, so seeds and resume stay exact),
/// and what a validation batch tells it (fixed: no dropout, no augmentation). One plan per kind: none, class labels,
/// prompts, a super-resolution model's low-resolution image.
/// </summary>
public interface ITrainingConditioning
{
    /// <summary>The condition of training images <paramref name="x0"/> (after augmentation) with their labels and dataset indices.</summary>
    Condition Draw(Tensor x0, Tensor labels, long[] indices, Generator generator);

    /// <summary>The condition of validation images <paramref name="x0"/> with their labels and indices in the validation set.</summary>
    Condition Fixed(Tensor x0, Tensor labels, long[] indices);
}

/// <summary>
/// The conditioning plan of an image run, chosen from its model config: a kind registered from outside the library
/// (<see cref="Register"/>, the newest first) or a built-in one.
/// </summary>
public static class TrainingConditionings
{
    static readonly List<Func<ModelConfig, ITrainingConditioning?>> registered = [];

    /// <summary>
    /// Adds a conditioning kind: <paramref name="choose"/> returns its plan for a config of that kind (recognised by its
    /// network config, say) and null for any other. Asked before the built-in kinds, the newest registration first.
    /// </summary>
    public static void Register(Func<ModelConfig, ITrainingConditioning?> choose)
    {
        lock (registered) registered.Insert(0, choose);
    }

    /// <summary>
    /// The plan of <paramref name="config"/>'s kind: super-resolution, prompts (<paramref name="captions"/> for training,
    /// <paramref name="validationCaptions"/> for validation), class labels, or none.
    /// </summary>
    internal static ITrainingConditioning For(ModelConfig config, GaussianDiffusion diffusion, Text.ICaptionTable? captions,
        Text.ICaptionTable? validationCaptions)
    {
        Func<ModelConfig, ITrainingConditioning?>[] kinds;
        lock (registered) kinds = [.. registered];
        foreach (var choose in kinds)
            if (choose(config) is { } plan) return plan;
        double drop = config.Training.CondDrop ?? 0;
        if (config.SuperRes is { } superRes) return new SuperResolutionConditioning(superRes, diffusion);
        if (captions is not null) return new PromptConditioning(captions, validationCaptions ?? captions, drop);
        if (config.Network.ClassCount is { } classes) return new ClassConditioning(classes, drop);
        return new NoConditioning();
    }
}

/// <summary>An unconditional model.</summary>
internal sealed class NoConditioning : ITrainingConditioning
{
    public Condition Draw(Tensor x0, Tensor labels, long[] indices, Generator generator) => Condition.None;

    public Condition Fixed(Tensor x0, Tensor labels, long[] indices) => Condition.None;
}

/// <summary>Class labels, each replaced by the null label with probability <c>cond_drop</c> (classifier-free guidance training).</summary>
internal sealed class ClassConditioning(int classes, double dropout) : ITrainingConditioning
{
    public Condition Draw(Tensor x0, Tensor labels, long[] indices, Generator generator) =>
        new() { ClassLabels = Guidance.LabelDropout.Apply(labels, classes, dropout, generator) };

    public Condition Fixed(Tensor x0, Tensor labels, long[] indices) => new() { ClassLabels = labels };
}

/// <summary>
/// Prompts: a caption per image, drawn from its class's templates or from the captions file (keyed by image), with word and
/// caption dropout; validation scores each image's first caption.
/// </summary>
internal sealed class PromptConditioning(Text.ICaptionTable captions, Text.ICaptionTable validation, double dropout) : ITrainingConditioning
{
    public Condition Draw(Tensor x0, Tensor labels, long[] indices, Generator generator)
    {
        using var keys = captions.KeyedByImage ? tensor(indices, ScalarType.Int64) : labels.alias();
        return new() { Tokens = captions.Draw(keys, dropout, generator) };
    }

    public Condition Fixed(Tensor x0, Tensor labels, long[] indices) =>
        new() { Tokens = validation.Fixed(validation.KeyedByImage ? tensor(indices) : labels) };
}

/// <summary>
/// A super-resolution model (SR3): the upsampled low-resolution copy of x_0, noise-augmented at training time when the
/// model has the augmentation (its level and noise drawn from the run's generator); clean at validation.
/// </summary>
internal sealed class SuperResolutionConditioning(SuperResSpec spec, GaussianDiffusion diffusion) : ITrainingConditioning
{
    public Condition Draw(Tensor x0, Tensor labels, long[] indices, Generator generator)
    {
        var (low, levels) = SuperResolution.TrainingConditioning(x0, spec, diffusion, generator);
        return new() { LowResolution = low, NoiseLevels = levels };
    }

    public Condition Fixed(Tensor x0, Tensor labels, long[] indices) => new() { LowResolution = LowResolution.Conditioning(x0, spec.Scale) };
}
