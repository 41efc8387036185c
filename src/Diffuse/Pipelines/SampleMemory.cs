using Diffuse.Configuration;
using Diffuse.Models;

namespace Diffuse.Pipelines;

/// <summary>
/// The memory of sampling, estimated before anything is allocated and held against what this machine allows
/// (<see cref="NetworkMemory.BudgetBytes"/>): a result that cannot fit is a one-line error naming <c>n</c>; a batch whose
/// activations cannot fit is made smaller (sample k does not depend on the batch, so only the speed changes).
/// </summary>
internal static class SampleMemory
{
    /// <summary>
    /// Throws when <paramref name="n"/> samples of <paramref name="valuesPerSample"/> float32 values, held twice (the batches
    /// and their join, or the result and what is written from it), exceed the budget.
    /// </summary>
    public static void CheckResult(long n, long valuesPerSample)
    {
        double bytes = 2.0 * sizeof(float) * n * valuesPerSample;
        long budget = NetworkMemory.BudgetBytes;
        if (bytes > budget)
            throw DiffuseException.For("n",
                $"n {n:N0} samples of {valuesPerSample:N0} values need about {Gib(bytes)} GiB for the result, more than the {Gib(budget)} GiB this machine allows; lower it");
    }

    /// <summary>
    /// The largest batch of at most <paramref name="requested"/> samples whose working memory, <paramref name="bytesPerSample"/>
    /// each, takes at most half the budget (the network and the result take the rest); at least 1.
    /// </summary>
    public static int FittingBatch(int requested, double bytesPerSample)
    {
        if (!(bytesPerSample > 0)) return requested;
        double fits = NetworkMemory.BudgetBytes / 2.0 / bytesPerSample;
        return (int)Math.Clamp(Math.Floor(fits), 1, requested);
    }

    /// <summary>
    /// Throws when one micro-batch of training (<paramref name="batchSize"/> / <paramref name="accumulation"/> images) would
    /// keep more activations for its backward pass than half the budget (the same generous estimate as sampling's, the
    /// activations' gradients on top): a one-line error naming batch_size, not an allocation failure minutes in.
    /// </summary>
    public static void CheckTrainingBatch(NetworkConfig config, int imageSize, int batchSize, int accumulation)
    {
        if (UNetBytesPerImage(config, imageSize) is not { } perImage) return;
        int micro = Math.Max(1, batchSize / Math.Max(1, accumulation));
        double bytes = 1.5 * perImage * micro;
        double budget = NetworkMemory.BudgetBytes / 2.0;
        if (bytes > budget)
            throw DiffuseException.For("batch_size",
                $"batch_size {batchSize} ({micro} images a micro-batch) needs about {Gib(bytes)} GiB of activations to train, more than the {Gib(budget)} GiB this machine allows; lower it, or split it with gradient_accumulation");
    }

    /// <summary>
    /// A generous estimate of one image's working memory in a sampling step of a U-Net of <paramref name="config"/> at
    /// <paramref name="imageSize"/>: every layer's output kept (the skip connections keep most of them) and each attention
    /// matrix, float32, doubled for classifier-free guidance's doubled batch; null for other networks (or a U-Net the count
    /// does not walk).
    /// </summary>
    public static double? UNetBytesPerImage(NetworkConfig config, int imageSize)
    {
        if (config is not UNetConfig unet) return null;
        IReadOnlyList<LayerFlops> layers;
        try
        {
            layers = FlopCount.UNet2D(unet, 1, imageSize == unet.ImageSize ? null : imageSize).Layers;
        }
        catch (DiffuseException)
        {
            return null;
        }
        double values = 0;
        foreach (var layer in layers)
        {
            double pixels = (double)layer.Height * layer.Width;
            values += layer.Kind == FlopKind.AttentionMatmul ? pixels * pixels + layer.Out * pixels : layer.Out * pixels;
        }
        return 2 * sizeof(float) * values;
    }

    static string Gib(double bytes) => (bytes / (1L << 30)).ToString(bytes < 10.0 * (1L << 30) ? "0.0" : "N0", System.Globalization.CultureInfo.InvariantCulture);
}
