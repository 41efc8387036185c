using Diffuse.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

public class FeatureClassifierTests
{
    [Fact]
    public void ForwardGivesLogitsAndFeaturesGivesThePenultimateLayer()
    {
        using var g = new Generator(0);
        using var classifier = new FeatureClassifier(new FeatureClassifierConfig(), g);
        classifier.eval();
        using var x = rand(5, 1, 28, 28) * 2 - 1;
        using var logits = classifier.forward(x);
        using var features = classifier.Features(x);
        using var headLogits = classifier.Logits(features);
        Assert.Equal(new long[] { 5, 10 }, logits.shape);
        Assert.Equal(new long[] { 5, 128 }, features.shape);
        Assert.True(logits.allclose(headLogits));
        Assert.True(features.min().item<float>() >= 0);
    }

    [Fact]
    public void InChannelsSizeAndClassesComeFromTheConfig()
    {
        using var g = new Generator(0);
        using var classifier = new FeatureClassifier(new FeatureClassifierConfig { InChannels = 3, ImageSize = 32, Classes = 5, Channels = [4, 8, 8], FeatureDim = 12 }, g);
        using var x = randn(2, 3, 32, 32);
        using var logits = classifier.forward(x);
        using var features = classifier.Features(x);
        Assert.Equal(new long[] { 2, 5 }, logits.shape);
        Assert.Equal(new long[] { 2, 12 }, features.shape);
        using var wrong = randn(2, 1, 32, 32);
        Assert.Contains("[B, 3, 32, 32]", Assert.Throws<DiffuseException>(() => classifier.forward(wrong)).Message);
        Assert.Throws<DiffuseException>(() => new FeatureClassifier(new FeatureClassifierConfig { ImageSize = 30 }, g));
    }

    [Fact]
    public void TheSameSeedGivesBitwiseTheSameWeights()
    {
        static Dictionary<string, Tensor> Weights(ulong seed)
        {
            using var g = new Generator(seed);
            return new FeatureClassifier(new FeatureClassifierConfig(), g).state_dict();
        }
        var a = Weights(4);
        var b = Weights(4);
        var c = Weights(5);
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, t) in a) Assert.True(t.eq(b[name]).all().item<bool>(), name);
        Assert.False(a["feature.weight"].eq(c["feature.weight"]).all().item<bool>());
    }

    [Fact]
    public void RandomShiftMovesEachImageByAtMostThePaddingAndFillsWithBackground()
    {
        using var images = full(new long[] { 64, 1, 8, 8 }, -1f);
        using (var pixel = images.narrow(2, 3, 1).narrow(3, 4, 1)) pixel.fill_(1);
        using var g = new Generator(6);
        using var shifted = Diffuse.Data.ImageAugmentation.RandomShift(images, 2, g);
        Assert.Equal(images.shape, shifted.shape);
        var moves = new HashSet<(long, long)>();
        for (int i = 0; i < 64; i++)
        {
            using var flat = shifted[i, 0].flatten();
            long at = flat.argmax().item<long>();
            Assert.Equal(1f, flat[at].item<float>());
            Assert.Equal(63, flat.eq(-1f).sum().item<long>());
            long dy = at / 8 - 3, dx = at % 8 - 4;
            Assert.InRange(dy, -2, 2);
            Assert.InRange(dx, -2, 2);
            moves.Add((dy, dx));
        }
        Assert.True(moves.Count > 10);
    }

    [Fact]
    public void TrainingSeparatesTwoSyntheticClasses()
    {
        var (trainX, trainY) = ClassifierTestData.Blobs(320, 1);
        var (valX, valY) = ClassifierTestData.Blobs(80, 2);
        var epochs = new List<ClassifierProgress>();
        var trained = ClassifierTraining.Train(trainX, trainY, valX, valY, ClassifierTestData.TinySpec, new SyncProgress<ClassifierProgress>(epochs.Add));
        Assert.InRange(trained.ValidationAccuracy, 0.95, 1.0);
        Assert.Equal(ClassifierTestData.TinySpec.Epochs, epochs.Count);
        Assert.Equal(trained.ValidationAccuracy, epochs[^1].ValidationAccuracy);
        Assert.Equal(trained.ValidationAccuracy, ClassifierTraining.Accuracy(trained.Classifier, valX, valY));
        Assert.False(trained.Classifier.training);
    }

    [Fact]
    public void BadLabelsAreErrors()
    {
        var (x, y) = ClassifierTestData.Blobs(8, 1);
        using var floatLabels = y.to(ScalarType.Float32);
        using var outOfRange = y + 10;
        Assert.Contains("int64", Assert.Throws<DiffuseException>(() => ClassifierTraining.Train(x, floatLabels, x, y, ClassifierTestData.TinySpec)).Message);
        Assert.Contains("[0, 10)", Assert.Throws<DiffuseException>(() => ClassifierTraining.Train(x, outOfRange, x, y, ClassifierTestData.TinySpec)).Message);
        Assert.Contains("one per image", Assert.Throws<DiffuseException>(() => ClassifierTraining.Train(x, y.narrow(0, 0, 4), x, y, ClassifierTestData.TinySpec)).Message);
    }
}

/// <summary>An IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
