using Diffuse.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// What <c>diffuse eval</c> reports for an image model: the FCD (Fréchet Classifier Distance: the
/// Fréchet distance of Heusel et al. 2017 between Gaussians fitted to the penultimate features of a
/// small CNN trained on the dataset's real images, not of Inception-v3, so not comparable with
/// published FIDs) of the samples against as many real images, the same between two disjoint real
/// sets (the floor a perfect model would reach), the classifier's mean confidence and the entropy
/// of its predicted-class histogram (mode coverage; at most ln K for K classes), and for samples drawn with requested
/// labels (a class-conditional model) the accuracy: the share the classifier labels as the requested class.
/// </summary>
public sealed record ImageEvalReport(
    string Dataset,
    ImageQualityScores Samples,
    ImageQualityScores Floor,
    ImageQualityScores? SamplesAtFloorCount,
    double ClassifierAccuracy,
    long ClassifierValidationImages,
    bool ClassifierFromCache,
    double? LabelAccuracy = null);

public static class ImageEvaluation
{
    /// <summary>The held-out share of the real images on which the classifier's accuracy is measured.</summary>
    public const double ClassifierValidationFraction = 0.1;
    /// <summary>The fixed seed of the classifier's split, so that every evaluation of a dataset uses the same classifier.</summary>
    public const long ClassifierSplitSeed = 1123;

    /// <summary>The classifier of <paramref name="data"/> (trained once, then cached in <paramref name="cacheDir"/>).</summary>
    public static (CachedClassifier Classifier, long ValidationImages) Classifier(ImageDataset data, string cacheDir,
        Action<string>? warn = null, IProgress<ClassifierProgress>? progress = null, CancellationToken cancel = default)
    {
        if (!data.IsLabelled)
            throw new DiffuseException($"'{data.Name}' has no class labels; the quality score needs a labelled dataset (mnist, fashion-mnist, or a folder with one sub-folder per class)");
        if (data.Height != data.Width || data.Height % 4 != 0)
            throw new DiffuseException($"the quality classifier needs square images with a side divisible by 4, got {data.Height}x{data.Width}");
        var spec = Spec(data);
        using var split = data.Split(ClassifierValidationFraction, ClassifierSplitSeed);
        using var trainX = split.Train.ToImages();
        using var valX = split.Validation.ToImages();
        string key = Key(data.Name, data);
        var classifier = ClassifierCache.LoadOrTrain(key, cacheDir, () => (trainX, split.Train.Labels, valX, split.Validation.Labels),
            spec, progress, warn, cancel);
        return (classifier, split.Validation.Count);
    }

    /// <summary>The quality classifier's recipe for <paramref name="data"/> (its channels, size and classes).</summary>
    public static ClassifierSpec Spec(ImageDataset data) => Spec(data, data.Name);

    /// <summary>The recipe for images shaped as <paramref name="data"/>'s from the dataset named <paramref name="dataset"/> (a split part keeps its source's recipe).</summary>
    public static ClassifierSpec Spec(ImageDataset data, string dataset)
    {
        var baseSpec = dataset == "fashion-mnist" ? ClassifierSpec.FashionMnist : ClassifierSpec.Mnist;
        return baseSpec with
        {
            Model = baseSpec.Model with { InChannels = data.Channels, ImageSize = data.Height, Classes = data.ClassNames.Count },
        };
    }

    static string Key(string name, ImageDataset data)
    {
        var safe = new string(Path.GetFileName(Path.TrimEndingDirectorySeparator(name)).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
        return $"{(safe.Length == 0 ? "data" : safe)}-{data.Channels}x{data.Height}";
    }

    /// <summary>
    /// Scores <paramref name="generated"/> ([N, C, H, W] in [-1, 1]) against N real images drawn
    /// from <paramref name="data"/>, beside the real-vs-real floor at min(N, real/2) images.
    /// </summary>
    /// <param name="requestedLabels">The class each sample was drawn for ([N] int64), or null for unconditional samples.</param>
    public static ImageEvalReport Score(CachedClassifier classifier, long validationImages, Tensor generated, ImageDataset data, long seed,
        Tensor? requestedLabels = null)
    {
        long n = generated.shape[0];
        if (requestedLabels is not null && (requestedLabels.dim() != 1 || requestedLabels.shape[0] != n))
            throw new DiffuseException($"{n} samples need {n} requested labels, got [{string.Join(", ", requestedLabels.shape)}]");
        if (requestedLabels is not null && data.ClassNames.Count != classifier.Classifier.Config.Classes)
            throw new DiffuseException($"'{data.Name}' has {data.ClassNames.Count} classes but its classifier {classifier.Classifier.Config.Classes}");
        if (n < 2) throw new DiffuseException("the quality score needs at least 2 generated images");
        if (data.Count < 4) throw new DiffuseException($"'{data.Name}' has too few images ({data.Count}) for a quality score");
        using var scope = NewDisposeScope();
        using var g = new Generator((ulong)seed);
        var c = classifier.Classifier;
        using var real = data.ToImages();
        var order = randperm(data.Count, generator: g);
        long realCount = Math.Min(n, data.Count);
        var reference = real.index_select(0, order.narrow(0, 0, realCount));
        var samples = ImageQuality.Measure(c, generated, reference);

        int floorCount = (int)Math.Min(n, data.Count / 2);
        var floor = ImageQuality.Floor(c, real, floorCount, g);
        ImageQualityScores? atFloor = null;
        if (floorCount < n)
        {
            var second = real.index_select(0, order.narrow(0, data.Count - floorCount, floorCount));
            atFloor = ImageQuality.Measure(c, generated.narrow(0, 0, floorCount), second);
        }
        double? accuracy = requestedLabels is null ? null : ImageQuality.LabelAccuracy(c, generated, requestedLabels);
        return new ImageEvalReport(data.Name, samples, floor, atFloor, classifier.ValidationAccuracy, validationImages, classifier.FromCache, accuracy);
    }
}
