using Diffuse.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

/// <summary>Tiny synthetic labelled images and a tiny classifier spec that trains in about a second.</summary>
internal static class ClassifierTestData
{
    public static readonly ClassifierSpec TinySpec = new()
    {
        Model = new FeatureClassifierConfig { Channels = [4, 8, 8], FeatureDim = 16 },
        Epochs = 3,
        BatchSize = 32,
        LearningRate = 5e-3,
        Seed = 3,
    };

    /// <summary>
    /// <paramref name="n"/> 28x28 images in [-1, 1], labels [n] int64 in {0, 1}: a bright 6x6 square in the
    /// top-left quadrant (class 0) or the bottom-right one (class 1), at a random place, over noise.
    /// </summary>
    public static (Tensor Images, Tensor Labels) Blobs(int n, ulong seed)
    {
        using var g = new Generator(seed);
        var images = (rand(new long[] { n, 1, 28, 28 }, generator: g) * 0.4 - 1).DetachFromDisposeScope();
        var labels = randint(0, 2, [n], dtype: ScalarType.Int64, generator: g).DetachFromDisposeScope();
        var offsets = randint(0, 6, [n, 2], generator: g).data<long>().ToArray();
        var classes = labels.data<long>().ToArray();
        for (int i = 0; i < n; i++)
        {
            long top = offsets[2 * i] + (classes[i] == 0 ? 2 : 14), left = offsets[2 * i + 1] + (classes[i] == 0 ? 2 : 14);
            using var square = images[i, 0].narrow(0, top, 6).narrow(1, left, 6);
            square.fill_(1);
        }
        return (images, labels);
    }
}
