using Diffuse.Data;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Data;

public class ImageAugmentationTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.allclose(b, rtol: 0, atol: 0);

    static Tensor Batch() => (arange(8 * 2 * 5 * 6, ScalarType.Float32).reshape(8, 2, 5, 6) / 240f) - 1f;

    [Fact]
    public void TheSameGeneratorSeedGivesTheSameBatch()
    {
        var augmentation = new ImageAugmentation { HorizontalFlip = true, CropPadding = 2 };
        using var x = Batch();
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var a = augmentation.Apply(x, g1);
        using var b = augmentation.Apply(x, g2);
        Assert.Equal(x.shape, a.shape);
        Assert.True(Same(a, b));
        using var c = augmentation.Apply(x, g1);
        Assert.False(Same(a, c));
    }

    [Fact]
    public void FlipReallyMirrorsEachImageOrLeavesItAlone()
    {
        using var x = Batch();
        using var g = new Generator(1);
        using var y = new ImageAugmentation { HorizontalFlip = true }.Apply(x, g);
        var flipped = 0;
        for (var i = 0; i < 8; i++)
        {
            if (Same(y[i], x[i].flip(2))) flipped++;
            else Assert.True(Same(y[i], x[i]));
        }
        Assert.InRange(flipped, 1, 7);
    }

    [Fact]
    public void CropShiftsTheImageAndFillsWithMinusOne()
    {
        using var x = ones(new long[] { 16, 1, 4, 4 });
        using var g = new Generator(3);
        using var y = new ImageAugmentation { CropPadding = 1 }.Apply(x, g);
        var values = y.data<float>().ToArray();
        Assert.All(values, v => Assert.True(v is 1f or -1f));
        // Each image keeps at least a 3x3 block of ones, and some images are shifted.
        Assert.All(Enumerable.Range(0, 16), i => Assert.True(y[i].sum().item<float>() >= 9 - 7));
        Assert.Contains(values, v => v == -1f);
    }

    [Fact]
    public void NoAugmentationIsTheIdentity()
    {
        using var x = Batch();
        using var g = new Generator(0);
        using var y = new ImageAugmentation().Apply(x, g);
        Assert.True(Same(y, x));
    }
}
