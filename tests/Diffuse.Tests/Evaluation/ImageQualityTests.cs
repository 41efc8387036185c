using Diffuse.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

public class ImageQualityTests
{
    [Fact]
    public void TheEntropyOfAUniformHistogramIsLnOfTheClassCount()
    {
        Assert.Equal(Math.Log(10), ImageQuality.HistogramEntropy(Enumerable.Repeat(7, 10).ToArray()), 12);
        Assert.Equal(Math.Log(2), ImageQuality.HistogramEntropy([5, 0, 5]), 12);
    }

    [Fact]
    public void TheEntropyOfAOneClassHistogramIsZero()
    {
        Assert.Equal(0.0, ImageQuality.HistogramEntropy([0, 0, 42, 0, 0, 0, 0, 0, 0, 0]));
        Assert.Equal(0.0, ImageQuality.HistogramEntropy(new int[10]));
        Assert.Throws<DiffuseException>(() => ImageQuality.HistogramEntropy([1, -1]));
    }

    [Fact]
    public void ClassHistogramCountsEveryClassIncludingEmptyOnes()
    {
        using var predicted = tensor(new long[] { 0, 3, 3, 9, 3 });
        Assert.Equal([1, 0, 0, 3, 0, 0, 0, 0, 0, 1], ImageQuality.ClassHistogram(predicted, 10));
        using var outOfRange = tensor(new long[] { 0, 10 });
        Assert.Throws<DiffuseException>(() => ImageQuality.ClassHistogram(outOfRange, 10));
    }

    [Fact]
    public void MeasureReportsEveryScoreAndImagesAgainstThemselvesScoreZeroFcd()
    {
        using var g = new Generator(0);
        using var classifier = new FeatureClassifier(ClassifierTestData.TinySpec.Model, g);
        var (images, _) = ClassifierTestData.Blobs(50, 4);
        var scores = ImageQuality.Measure(classifier, images, images, batchSize: 16);
        Assert.Equal(50, scores.Count);
        Assert.Equal(10, scores.ClassCounts.Length);
        Assert.Equal(50, scores.ClassCounts.Sum());
        Assert.InRange(scores.Fcd, 0, 1e-8);
        Assert.InRange(scores.MeanConfidence, 0.1, 1.0);
        Assert.Equal(ImageQuality.HistogramEntropy(scores.ClassCounts), scores.ClassEntropy);
        Assert.False(classifier.training);

        // Batch size changes nothing; other images are at a positive distance.
        using var stats = ImageQuality.ReferenceStats(classifier, images, batchSize: 7);
        var (others, _) = ClassifierTestData.Blobs(50, 5);
        using var shifted = others * 0.5;
        var far = ImageQuality.Measure(classifier, shifted, stats, batchSize: 50);
        Assert.Equal(far.Fcd, ImageQuality.Measure(classifier, shifted, images, batchSize: 3).Fcd, 1e-6 * far.Fcd); // float32 convolutions differ in the last bits across batch sizes
        Assert.True(far.Fcd > 1e-5);
    }

    [Fact]
    public void TheFloorScoresTwoDisjointRealSetsAndNeedsEnoughImages()
    {
        using var g = new Generator(0);
        using var classifier = new FeatureClassifier(ClassifierTestData.TinySpec.Model, g);
        var (real, _) = ClassifierTestData.Blobs(40, 6);
        using var draw = new Generator(7);
        var floor = ImageQuality.Floor(classifier, real, 20, draw);
        Assert.Equal(20, floor.Count);
        Assert.True(floor.Fcd > 0);
        using var again = new Generator(7);
        Assert.Equal(floor.Fcd, ImageQuality.Floor(classifier, real, 20, again).Fcd);
        Assert.Contains("only 40", Assert.Throws<DiffuseException>(() => ImageQuality.Floor(classifier, real, 21, draw)).Message);
    }
}
