using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Training;

namespace Diffuse.Cli;

/// <summary>
/// What eval inpaint, img2img and superres score on: a seeded random subset of the run's held-out images, the dataset at the
/// model's size, and the quality classifier (trained on first use, then cached).
/// </summary>
public sealed class HeldOutImages : IDisposable
{
    /// <summary>The seed of the held-out images scored when fewer than all are asked for (the split keeps the data's order, class by class for MNIST).</summary>
    public const long SubsetSeed = 20261123;

    HeldOutImages(ImageDataset data, FeatureClassifier classifier, ImageDataset subset) => (Data, Classifier, Subset) = (data, classifier, subset);

    public ImageDataset Data { get; }
    public FeatureClassifier Classifier { get; }
    public ImageDataset Subset { get; }

    /// <summary>The config of an image model that generates (the editing evaluations refuse points and super-resolution models).</summary>
    public static ModelConfig ReadConfig(string dir, string evaluation)
    {
        var config = Common.ReadConfig(dir);
        if (!config.IsImage) throw new UsageException($"'eval {evaluation}' scores image models; '{dir}' is a model of 2-D points");
        if (config.SuperRes is not null) throw new UsageException(SuperResolutionModel(dir));
        return config;
    }

    /// <summary>The refusal of a super-resolution model by an evaluation of models that generate.</summary>
    public static string SuperResolutionModel(string dir) =>
        $"'{dir}' is a super-resolution model: score it with 'diffuse eval superres', or as the second stage of 'diffuse eval cascade --cascade BASE,{dir}'";

    /// <summary>Loads up to <paramref name="n"/> held-out images of <paramref name="model"/>'s run; <paramref name="verb"/> says what is done to them.</summary>
    public static HeldOutImages Load(ModelConfig config, ImageModel model, ImageLoadOptions load, int n, string verb)
    {
        var data = ImageDatasets.Load(config.Data.Name, load with { ImageSize = model.Image.Height, Channels = model.Image.Channels }, Console.Error.WriteLine);
        FeatureClassifier? classifier = null;
        try
        {
            classifier = QualityScoring.Classifier(data, load).Classifier.Classifier;
            using var heldOut = ImageTraining.HeldOut(config, load, Console.Error.WriteLine);
            int count = (int)Math.Min(n, heldOut.Count);
            if (count < n) Console.Error.WriteLine($"note: the run held out {heldOut.Count} images; {verb} all of them");
            return new HeldOutImages(data, classifier, heldOut.RandomSubset(count, SubsetSeed));
        }
        catch
        {
            classifier?.Dispose();
            data.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Subset.Dispose();
        Classifier.Dispose();
        Data.Dispose();
    }
}
