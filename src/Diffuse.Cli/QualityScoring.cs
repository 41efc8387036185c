using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>Samples and scores image models against real images (eval quality, eval cascade and demo share it).</summary>
public static class QualityScoring
{
    /// <summary>The labels classifier guidance drew the samples for, and the classifier's class names.</summary>
    public sealed record GuidedLabels(long[] Labels, IReadOnlyList<string> ClassNames);

    /// <summary><c>--grid FILE.png</c>: also write the first 64 samples as a grid.</summary>
    public static System.CommandLine.Option<string?> Grid() => Opt.Parsed<string?>("--grid", "images: also write the first 64 samples as a PNG grid",
        path => path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? path : throw new UsageException($"--grid must end in .png, got '{path}'"), helpName: "FILE.png");

    /// <summary>The quality classifier of <paramref name="data"/>: from the cache, or trained now (progress on standard error).</summary>
    public static (CachedClassifier Classifier, long ValidationImages) Classifier(ImageDataset data, ImageLoadOptions load) =>
        ImageEvaluation.Classifier(data, Path.Combine(load.ResolveCacheDir(), "classifiers"), Console.Error.WriteLine,
            new SyncProgress<ClassifierProgress>(p => Console.Error.WriteLine(
                $"quality classifier: epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:F4}, validation accuracy {p.ValidationAccuracy:P2} ({p.Elapsed.TotalSeconds:F0} s)")));

    /// <summary>Samples <paramref name="n"/> images of <paramref name="model"/> and scores them.</summary>
    /// <param name="text">The prompts of a text-conditional model's samples (instead of <paramref name="conditioning"/>), with <paramref name="textLabels"/> the class each names.</param>
    /// <param name="inspect">Called with the classifier and the samples before they are released (per-prompt scores).</param>
    public static ImageEvalReport Evaluate(ImageModel model, string dataName, int n, SamplerSettings options, ImageLoadOptions load, string? grid, TextWriter output,
        Conditioning? conditioning = null, TextConditioning? text = null, long[]? textLabels = null,
        Action<CachedClassifier, torch.Tensor>? inspect = null, GuidedLabels? guided = null)
    {
        if (conditioning is not null && model.ClassNames.Count == 0)
            throw new UsageException("--guidance needs a class-conditional model (train --cond class)");
        if (text is not null && (textLabels is null || textLabels.Length != n))
            throw new ArgumentException("text-conditional samples need one label each", nameof(textLabels));
        var classNames = text is not null ? model.Image.ClassNames : conditioning is not null ? model.ClassNames : guided?.ClassNames;
        return Evaluate(model.Image, dataName, n, options.Seed,
            g => options.Sample(model, n, g, (ISamplingConditioning?)text ?? conditioning), load, grid, output,
            classNames, conditioning?.Labels ?? guided?.Labels ?? textLabels, inspect, guided is null ? "model" : "classifier");
    }

    /// <summary>
    /// Scores <paramref name="n"/> images of <paramref name="image"/>'s size drawn by <paramref name="draw"/> from a generator
    /// seeded <paramref name="seed"/>; with <paramref name="labels"/> (the class each sample was asked for, among
    /// <paramref name="classNames"/>) the label accuracy too.
    /// </summary>
    public static ImageEvalReport Evaluate(ImageSpec image, string dataName, int n, long seed, Func<torch.Generator, torch.Tensor> draw, ImageLoadOptions load, string? grid,
        TextWriter output, IReadOnlyList<string>? classNames, long[]? labels, Action<CachedClassifier, torch.Tensor>? inspect = null, string classesOf = "model")
    {
        using var data = ImageDatasets.Load(dataName, load with { ImageSize = image.Height, Channels = image.Channels }, Console.Error.WriteLine);
        var (classifier, validationImages) = Classifier(data, load);
        using var _ = classifier.Classifier;
        using var generator = new torch.Generator((ulong)seed);
        if (classNames is not null && !data.ClassNames.SequenceEqual(classNames))
            throw new UsageException($"'{data.Name}' has other classes than the {classesOf} ({string.Join(", ", data.ClassNames.Take(5))}... against {string.Join(", ", classNames.Take(5))}...): the label accuracy needs the {classesOf}'s own data");
        using var samples = draw(generator);
        if (grid is not null)
        {
            using var first = samples.narrow(0, 0, Math.Min(64, n));
            ImageGrid.WritePng(grid, first);
            output.WriteLine($"wrote the first {first.shape[0]} samples to {grid}");
        }
        using var requested = labels is null ? null : torch.tensor(labels, torch.ScalarType.Int64);
        var report = ImageEvaluation.Score(classifier, validationImages, samples, data, seed, requested);
        inspect?.Invoke(classifier, samples);
        return report;
    }
}
