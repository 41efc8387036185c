using Diffuse.IO;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// The low-resolution side of super-resolution: shrinking images as the data pipeline does (antialiased bicubic, then
/// rounded to 8-bit levels, so that a model trained with <c>--image-size</c> at the low resolution draws from the same
/// distribution a super-resolution model is conditioned on), the bicubic upsampling back to full size that SR3 feeds
/// the network, and the noise-conditioning augmentation of cascaded diffusion (Ho et al. 2021, Sec. 4.3).
/// All images are [B, C, H, W] in [-1, 1].
/// </summary>
public static class LowResolution
{
    /// <summary>[B, C, H / scale, W / scale]: antialiased bicubic, rounded to 8-bit pixel levels.</summary>
    public static Tensor Downsample(Tensor images, int scale)
    {
        Check(images);
        long h = images.shape[2], w = images.shape[3];
        if (scale < 1 || h % scale != 0 || w % scale != 0)
            throw new DiffuseException($"images of {w}x{h} cannot be shrunk by {scale}: the scale must divide both sides");
        if (scale == 1) return images.alias();
        using var scope = NewDisposeScope();
        var small = nn.functional.interpolate(images.to(ScalarType.Float32), new[] { h / scale, w / scale },
            mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
        return PixelScale.ToSigned(PixelScale.ToBytes(small.clamp(-1, 1))).MoveToOuterDisposeScope();
    }

    /// <summary>[B, C, H scale, W scale]: bicubic (align_corners false), clamped to [-1, 1].</summary>
    public static Tensor Upsample(Tensor low, int scale)
    {
        Check(low);
        if (scale < 1) throw new DiffuseException($"the upsampling scale must be at least 1, got {scale}");
        using var scope = NewDisposeScope();
        var big = nn.functional.interpolate(low.to(ScalarType.Float32), new[] { low.shape[2] * scale, low.shape[3] * scale },
            mode: InterpolationMode.Bicubic, align_corners: false);
        return big.clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>What a super-resolution model is conditioned on for high-resolution <paramref name="images"/>: their shrunk copy upsampled back.</summary>
    public static Tensor Conditioning(Tensor images, int scale)
    {
        using var low = Downsample(images, scale);
        return Upsample(low, scale);
    }

    /// <summary>
    /// x_s of the forward process started at <paramref name="conditioning"/>, one level s per image (int64 [B], 0 = the
    /// input unchanged, s ≥ 1 = q(x_s | x_0) at training timestep index s - 1), with the noise drawn from
    /// <paramref name="generators"/> (one per image when sampling; a training batch's generator).
    /// </summary>
    public static Tensor Augment(Tensor conditioning, Tensor levels, GaussianDiffusion diffusion, SampleGenerators generators)
    {
        ArgumentNullException.ThrowIfNull(diffusion);
        ArgumentNullException.ThrowIfNull(generators);
        using var scope = NewDisposeScope();
        var noise = generators.RandnLike(conditioning);
        var index = (levels - 1).clamp_min(0);
        var noisy = diffusion.QSample(conditioning, index, noise);
        var clean = levels.eq(0).reshape(-1, 1, 1, 1);
        return where(clean, conditioning, noisy).MoveToOuterDisposeScope();
    }

    /// <summary>The training draw of noise-conditioning augmentation: levels uniform in [0, <paramref name="maxLevel"/>] (int64 [B]).</summary>
    public static Tensor DrawLevels(long batch, int maxLevel, Generator generator) =>
        randint(0, maxLevel + 1, [batch], ScalarType.Int64, CPU, generator: generator);

    static void Check(Tensor images)
    {
        if (images.dim() != 4) throw new DiffuseException($"images must be [B, C, H, W], got [{string.Join(", ", images.shape)}]");
    }
}
