using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// Scores generated images with a <see cref="FeatureClassifier"/> trained on the real data: the FCD
/// (Fréchet Classifier Distance, the FID formula over this classifier's features; not Inception FID),
/// the mean classifier confidence and the entropy of the predicted-class histogram.
/// <see cref="Floor"/> gives the same scores for real images, the values a perfect generator would reach.
/// </summary>
public static class ImageQuality
{
    /// <summary>Scores <paramref name="images"/> [N, C, H, W] in [-1, 1] against the feature stats of the real data.</summary>
    public static ImageQualityScores Measure(FeatureClassifier classifier, Tensor images, GaussianStats reference, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        var (features, probabilities) = Embed(classifier, images, batchSize);
        using var stats = GaussianStats.FromFeatures(features);
        var counts = ClassHistogram(probabilities.argmax(1), classifier.Config.Classes);
        return new ImageQualityScores(
            FrechetDistance.Compute(stats, reference),
            probabilities.max(1).values.to(ScalarType.Float64).mean().item<double>(),
            HistogramEntropy(counts),
            counts,
            (int)images.shape[0]);
    }

    /// <summary>Scores <paramref name="images"/> against real images <paramref name="reference"/>.</summary>
    public static ImageQualityScores Measure(FeatureClassifier classifier, Tensor images, Tensor reference, int batchSize = 256)
    {
        using var stats = ReferenceStats(classifier, reference, batchSize);
        return Measure(classifier, images, stats, batchSize);
    }

    /// <summary>The Gaussian stats of the classifier features of real images [N, C, H, W] in [-1, 1].</summary>
    public static GaussianStats ReferenceStats(FeatureClassifier classifier, Tensor real, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        return GaussianStats.FromFeatures(Embed(classifier, real, batchSize).Features);
    }

    /// <summary>
    /// The real-vs-real floor: draws two disjoint random sets of <paramref name="count"/> images from
    /// <paramref name="real"/> (which needs at least 2 <paramref name="count"/>) and scores the first against
    /// the stats of the second. A generator's FCD is comparable with it when it scores
    /// <paramref name="count"/> images against the stats of <paramref name="count"/> real ones, since the
    /// FCD of finite samples is biased upwards by an amount that shrinks with the counts.
    /// </summary>
    public static ImageQualityScores Floor(FeatureClassifier classifier, Tensor real, int count, Generator generator, int batchSize = 256)
    {
        if (count < 2 || real.shape[0] < 2L * count)
            throw new DiffuseException($"the real-vs-real floor needs two disjoint sets of {count} images (at least 2 each), but there are only {real.shape[0]} real images");
        using var scope = NewDisposeScope();
        var order = randperm(real.shape[0], generator: generator);
        var first = real.index_select(0, order.narrow(0, 0, count));
        var second = real.index_select(0, order.narrow(0, count, count));
        return Measure(classifier, first, second, batchSize);
    }

    /// <summary>
    /// The share of <paramref name="images"/> [N, C, H, W] in [-1, 1] whose predicted class (the classifier's argmax) is
    /// the requested one in <paramref name="labels"/> [N] (int64): how often a class-conditional model draws what it is asked for.
    /// </summary>
    public static double LabelAccuracy(FeatureClassifier classifier, Tensor images, Tensor labels, int batchSize = 256)
    {
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new DiffuseException($"{images.shape[0]} images need {images.shape[0]} labels, got [{string.Join(", ", labels.shape)}]");
        using var scope = NewDisposeScope();
        var predicted = Embed(classifier, images, batchSize).Probabilities.argmax(1);
        return predicted.eq(labels.to(ScalarType.Int64)).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>How many of <paramref name="predictedClasses"/> [N] (int64) fall in each of the <paramref name="classes"/> classes.</summary>
    public static int[] ClassHistogram(Tensor predictedClasses, int classes)
    {
        using var scope = NewDisposeScope();
        var counts = bincount(predictedClasses.to(ScalarType.Int64).cpu(), minlength: classes).data<long>().ToArray();
        if (counts.Length != classes)
            throw new DiffuseException($"predicted classes must lie in [0, {classes}), got a class histogram of {counts.Length} bins");
        return counts.Select(c => (int)c).ToArray();
    }

    /// <summary>The entropy in nats of the distribution <paramref name="counts"/> / sum: ln K for K equal bins, 0 for one non-empty bin or none.</summary>
    public static double HistogramEntropy(IReadOnlyList<int> counts)
    {
        if (counts.Any(c => c < 0)) throw new DiffuseException("a class histogram cannot hold negative counts");
        double total = counts.Sum(c => (double)c);
        if (total == 0) return 0;
        // Subtracting from +0 keeps a one-class histogram at 0 rather than -0.
        return 0.0 - counts.Where(c => c > 0).Sum(c => c / total * Math.Log(c / total));
    }

    // Features [N, F] and softmax probabilities [N, classes], in batches, under no_grad, in eval mode.
    /// <summary>The classifier's predicted class of each image [N, C, H, W] in [-1, 1], int64 [N].</summary>
    public static Tensor PredictedClasses(FeatureClassifier classifier, Tensor images, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        var (_, probabilities) = Embed(classifier, images, batchSize);
        return probabilities.argmax(1).MoveToOuterDisposeScope();
    }

    static (Tensor Features, Tensor Probabilities) Embed(FeatureClassifier classifier, Tensor images, int batchSize)
    {
        if (batchSize < 1) throw new DiffuseException($"the batch size must be at least 1, got {batchSize}");
        classifier.eval();
        using var _ = no_grad();
        var features = new List<Tensor>();
        var probabilities = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var f = classifier.Features(images.narrow(0, start, Math.Min(batchSize, images.shape[0] - start)));
            probabilities.Add(softmax(classifier.Logits(f), 1).MoveToOuterDisposeScope());
            features.Add(f.MoveToOuterDisposeScope());
        }
        if (features.Count == 0) throw new DiffuseException("there are no images to measure");
        return (cat(features, 0), cat(probabilities, 0));
    }
}
