using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// Random training augmentation of [B, C, H, W] image batches in [-1, 1]: a horizontal flip of
/// each image with probability 1/2, then a random crop back to H x W from the image padded by
/// <see cref="CropPadding"/> pixels of -1 on every side (black, the background of MNIST-like data;
/// constant rather than reflected padding so no mirrored content appears at the edges). Resizing
/// belongs to loading, not here.
/// </summary>
public sealed record ImageAugmentation
{
    /// <summary>Flip each image left-right with probability 1/2.</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>Pixels of -1 padding for the random crop; 0 turns cropping off.</summary>
    public int CropPadding { get; init; }

    /// <summary>True when <see cref="Apply"/> changes nothing.</summary>
    public bool IsIdentity => !HorizontalFlip && CropPadding == 0;

    /// <summary>
    /// A new augmented batch. Every draw comes from <paramref name="generator"/>, in a fixed order
    /// (flip decisions [B] when flipping, then crop offsets: rows [B], columns [B]), so the same
    /// generator state gives the same batch. The generator must live on the batch's device.
    /// </summary>
    public Tensor Apply(Tensor batch, Generator generator)
    {
        if (batch.dim() != 4) throw new ArgumentException($"expected a batch [B, C, H, W], not [{string.Join(", ", batch.shape)}]", nameof(batch));
        if (CropPadding < 0) throw new DiffuseException($"the crop padding must be at least 0, not {CropPadding}");
        using var scope = NewDisposeScope();
        var (b, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3]);
        var x = batch.alias();
        if (HorizontalFlip)
        {
            var flip = rand(new[] { b }, generator: generator, device: batch.device) < 0.5;
            x = where(flip.reshape(b, 1, 1, 1), x.flip(3), x);
        }
        if (CropPadding > 0)
        {
            var p = CropPadding;
            var padded = nn.functional.pad(x, new long[] { p, p, p, p }, PaddingModes.Constant, -1.0);
            var top = randint(0, 2 * p + 1, new[] { b }, generator: generator, device: batch.device);
            var left = randint(0, 2 * p + 1, new[] { b }, generator: generator, device: batch.device);
            var rows = (top.unsqueeze(1) + arange(h, device: batch.device)).reshape(b, 1, h, 1).expand(b, c, h, w + 2 * p);
            var cols = (left.unsqueeze(1) + arange(w, device: batch.device)).reshape(b, 1, 1, w).expand(b, c, h, w);
            x = padded.gather(2, rows).gather(3, cols);
        }
        return x.clone().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Shifts each image by its own random offset of up to <paramref name="pixels"/> in each direction:
    /// pads with -1 (the background of images in [-1, 1]) and crops back at a random corner.
    /// </summary>
    public static Tensor RandomShift(Tensor images, int pixels, Generator generator)
    {
        using var scope = NewDisposeScope();
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        var padded = nn.functional.pad(images, [pixels, pixels, pixels, pixels], value: -1.0);
        var dy = randint(0, 2 * pixels + 1, [b], dtype: ScalarType.Int64, generator: generator);
        var dx = randint(0, 2 * pixels + 1, [b], dtype: ScalarType.Int64, generator: generator);
        var rows = (dy.unsqueeze(1) + arange(h)).view(b, 1, h, 1).expand(b, c, h, w + 2 * pixels);
        var cols = (dx.unsqueeze(1) + arange(w)).view(b, 1, 1, w).expand(b, c, h, w);
        return padded.gather(2, rows).gather(3, cols).MoveToOuterDisposeScope();
    }
}
