using SkiaSharp;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// Resizing and channel conversion shared by every image source. Square outputs come from
/// scaling the shorter side to the target and cropping the centre; downscaling samples
/// trilinearly from mipmaps (so it averages rather than aliases) and upscaling uses the
/// Mitchell-Netravali cubic (B = C = 1/3). Transparent pixels are composited over black.
/// </summary>
static class ImageResampler
{
    /// <summary>The square, centre-cropped RGB pixels [3 * size * size] (planar) of <paramref name="source"/>, and whether they are all gray.</summary>
    public static (byte[] Planes, bool IsGray) SquareRgb(SKBitmap source, int size)
    {
        using var target = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(target))
        using (var image = SKImage.FromBitmap(source))
        {
            canvas.Clear(SKColors.Black);
            var side = Math.Min(source.Width, source.Height);
            var crop = SKRect.Create((source.Width - side) / 2f, (source.Height - side) / 2f, side, side);
            var sampling = side > size
                ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
                : side < size ? new SKSamplingOptions(SKCubicResampler.Mitchell) : new SKSamplingOptions(SKFilterMode.Nearest);
            using var paint = new SKPaint();
            canvas.DrawImage(image, crop, SKRect.Create(size, size), sampling, paint);
        }
        var rgba = target.GetPixelSpan();
        var area = size * size;
        var planes = new byte[3 * area];
        var isGray = true;
        for (var i = 0; i < area; i++)
        {
            byte r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
            planes[i] = r;
            planes[area + i] = g;
            planes[2 * area + i] = b;
            isGray &= r == g && g == b;
        }
        return (planes, isGray);
    }

    /// <summary>Resizes uint8 [N, C, H, W] to [N, C, size, size] with <see cref="SquareRgb"/>'s filter; unchanged when already that size.</summary>
    public static Tensor Resize(Tensor pixels, int size)
    {
        var (n, c, h, w) = ((int)pixels.shape[0], (int)pixels.shape[1], (int)pixels.shape[2], (int)pixels.shape[3]);
        if (h == size && w == size) return pixels.alias();
        var source = pixels.contiguous().data<byte>().ToArray();
        var result = new byte[(long)n * c * size * size];
        var area = h * w;
        var outArea = size * size;
        Parallel.For(0, n, i =>
        {
            using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
            var rgba = bitmap.GetPixelSpan();
            var offset = (long)i * c * area;
            for (var p = 0; p < area; p++)
            {
                for (var k = 0; k < 3; k++) rgba[4 * p + k] = source[offset + (c == 1 ? 0 : k) * area + p];
                rgba[4 * p + 3] = 255;
            }
            var (planes, _) = SquareRgb(bitmap, size);
            Array.Copy(planes, 0, result, (long)i * c * outArea, c * outArea);
        });
        return tensor(result, new long[] { n, c, size, size }, ScalarType.Byte);
    }

    /// <summary>uint8 [N, C, H, W] with C in {1, 3} to <paramref name="channels"/> channels (gray from RGB by ITU-R BT.601 luma).</summary>
    public static Tensor ToChannels(Tensor pixels, int channels)
    {
        var current = pixels.shape[1];
        if (current == channels) return pixels.alias();
        using var scope = NewDisposeScope();
        if (channels == 3) return pixels.expand(-1, 3, -1, -1).contiguous().MoveToOuterDisposeScope();
        var weights = tensor(new[] { 0.299f, 0.587f, 0.114f }).reshape(1, 3, 1, 1);
        var gray = (pixels.to(ScalarType.Float32) * weights).sum(1, keepdim: true);
        return gray.round().clamp(0, 255).to(ScalarType.Byte).MoveToOuterDisposeScope();
    }
}
