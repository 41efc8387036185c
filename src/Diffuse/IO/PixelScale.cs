using static TorchSharp.torch;

namespace Diffuse.IO;

/// <summary>
/// The one mapping between stored 8-bit pixels and the model's [-1, 1] images (DDPM's scaling,
/// Ho et al. 2020, Section 4): x = p / 127.5 - 1, and back p = round((x + 1) * 127.5) after
/// clamping x to [-1, 1].
/// </summary>
public static class PixelScale
{
    /// <summary>uint8 pixels (any shape) to a new float32 tensor in [-1, 1].</summary>
    public static Tensor ToSigned(Tensor pixels)
    {
        if (pixels.dtype != ScalarType.Byte) throw new ArgumentException($"pixels must be uint8, not {pixels.dtype}", nameof(pixels));
        using var scope = NewDisposeScope();
        return (pixels.to(ScalarType.Float32) / 127.5f - 1f).MoveToOuterDisposeScope();
    }

    /// <summary>Images in [-1, 1] (any float dtype, any device) to a new uint8 CPU tensor; values outside are clamped.</summary>
    public static Tensor ToBytes(Tensor images)
    {
        if (!images.is_floating_point()) throw new ArgumentException($"images must be floating point, not {images.dtype}", nameof(images));
        using var scope = NewDisposeScope();
        var scaled = (images.detach().to(ScalarType.Float32).cpu().clamp(-1f, 1f) + 1f) * 127.5f;
        return scaled.round().to(ScalarType.Byte).MoveToOuterDisposeScope();
    }
}
