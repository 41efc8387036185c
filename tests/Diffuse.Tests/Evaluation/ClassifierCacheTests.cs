using Diffuse.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

public sealed class ClassifierCacheTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"diffuse-classifier-cache-{Guid.NewGuid():N}");
    private readonly (Tensor, Tensor, Tensor, Tensor) data;
    private readonly ClassifierSpec spec = ClassifierTestData.TinySpec with { Epochs = 1 };
    private readonly List<string> warnings = [];

    public ClassifierCacheTests()
    {
        var (trainX, trainY) = ClassifierTestData.Blobs(64, 1);
        var (valX, valY) = ClassifierTestData.Blobs(16, 2);
        data = (trainX, trainY, valX, valY);
    }

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    CachedClassifier Load(ClassifierSpec? with = null, (Tensor, Tensor, Tensor, Tensor)? other = null) =>
        ClassifierCache.LoadOrTrain("blobs", dir, () => other ?? data, with ?? spec, warn: warnings.Add);

    [Fact]
    public void TheSecondLoadComesFromTheCacheWithEqualOutputs()
    {
        var first = Load();
        Assert.False(first.FromCache);
        Assert.True(File.Exists(ClassifierCache.WeightsPath(dir, "blobs")));
        Assert.True(File.Exists(ClassifierCache.EntryPath(dir, "blobs")));
        var second = Load();
        Assert.True(second.FromCache);
        Assert.Empty(warnings);
        Assert.Equal(first.ValidationAccuracy, second.ValidationAccuracy);
        Assert.False(second.Classifier.training);
        var x = data.Item3;
        using var a = first.Classifier.forward(x);
        using var b = second.Classifier.forward(x);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ACorruptCacheFileIsRetrainedWithAWarning(bool corruptWeights)
    {
        Load();
        var path = corruptWeights ? ClassifierCache.WeightsPath(dir, "blobs") : ClassifierCache.EntryPath(dir, "blobs");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        var again = Load();
        Assert.False(again.FromCache);
        Assert.Contains(warnings, w => w.Contains("unreadable") && w.Contains(path));
        warnings.Clear();
        Assert.True(Load().FromCache);
        Assert.Empty(warnings);
    }

    [Fact]
    public void ChangedDataIsRetrained()
    {
        Load();
        var (x, y, vx, vy) = data;
        using var changed = x.clone();
        using (var pixel = changed[0, 0, 0, 0]) pixel.fill_(0.5f);
        Assert.False(Load(other: (changed, y, vx, vy)).FromCache);
        Assert.Contains(warnings, w => w.Contains("data of 'blobs' changed"));
        Assert.NotEqual(ClassifierCache.Fingerprint(x, y, vx, vy), ClassifierCache.Fingerprint(changed, y, vx, vy));
    }

    [Fact]
    public void ChangedSettingsAreRetrained()
    {
        Load();
        Assert.False(Load(spec with { Seed = 9 }).FromCache);
        Assert.False(Load(spec with { Model = spec.Model with { FeatureDim = 8 } }).FromCache);
        Assert.True(Load(spec with { Model = spec.Model with { FeatureDim = 8 } }).FromCache);
    }

    [Fact]
    public void AKeyThatIsNotAFileNameIsAnError()
    {
        Assert.Throws<DiffuseException>(() => ClassifierCache.LoadOrTrain("../x", dir, () => data, spec));
    }
}
