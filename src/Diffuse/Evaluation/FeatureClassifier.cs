using Diffuse.Models;
using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// A small CNN for images in [-1, 1] whose penultimate layer (<see cref="Features"/>) is the feature
/// space of the Fréchet Classifier Distance (<see cref="FrechetDistance"/>); it is trained here on the
/// dataset itself, so its numbers are not comparable with Inception FID. BatchNorm makes training fast;
/// call <c>eval()</c> (as <see cref="ClassifierTraining"/> and <see cref="ClassifierCache"/> leave it)
/// before measuring, so that features use the running statistics, not the batch's.
/// </summary>
public sealed class FeatureClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear feature;
    private readonly Linear head;

    public FeatureClassifierConfig Config { get; }

    /// <summary>The network, its weights drawn from <paramref name="generator"/> (same seed, bitwise same weights).</summary>
    public FeatureClassifier(FeatureClassifierConfig config, Generator generator) : base(nameof(FeatureClassifier))
    {
        config.Validate();
        Config = config;
        var c = config.Channels;
        body = nn.Sequential(
            new SafeConv2d(config.InChannels, c[0], 3, padding: 1, bias: false), nn.BatchNorm2d(c[0]), nn.ReLU(),
            nn.MaxPool2d(2),
            new SafeConv2d(c[0], c[1], 3, padding: 1, bias: false), nn.BatchNorm2d(c[1]), nn.ReLU(),
            nn.MaxPool2d(2),
            new SafeConv2d(c[1], c[2], 3, padding: 1, bias: false), nn.BatchNorm2d(c[2]), nn.ReLU(),
            nn.Flatten());
        int side = config.ImageSize / 4;
        feature = nn.Linear(c[2] * side * side, config.FeatureDim);
        head = nn.Linear(config.FeatureDim, config.Classes);
        RegisterComponents();
        Initialization.Reset(this, generator); // PyTorch's defaults, drawn from the given generator
    }

    public int FeatureDim => Config.FeatureDim;

    /// <summary>The penultimate layer (after its ReLU), [B, FeatureDim], for images [B, C, H, W] in [-1, 1].</summary>
    public Tensor Features(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != Config.InChannels || x.shape[2] != Config.ImageSize || x.shape[3] != Config.ImageSize)
            throw new DiffuseException($"the classifier expects images [B, {Config.InChannels}, {Config.ImageSize}, {Config.ImageSize}], got [{string.Join(", ", x.shape)}]");
        using var scope = NewDisposeScope();
        return nn.functional.relu(feature.forward(body.forward(x))).MoveToOuterDisposeScope();
    }

    /// <summary>The class logits [B, Classes] for features from <see cref="Features"/>.</summary>
    public Tensor Logits(Tensor features) => head.forward(features);

    /// <summary>The class logits [B, Classes] for images [B, C, H, W] in [-1, 1].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.forward(Features(x)).MoveToOuterDisposeScope();
    }

}
