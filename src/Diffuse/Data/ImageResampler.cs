using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// Resizing and channel conversion shared by every image source. Square outputs come from
/// scaling the shorter side to the target and cropping the centre. Decoded files go through
/// Skia: downscaling samples trilinearly from mipmaps (so it averages rather than aliases),
/// upscaling uses the Mitchell-Netravali cubic (B = C = 1/3), and transparent pixels are
/// composited over black. Tensors already in memory (IDX, npm) go through torch's bicubic.
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

    /// <summary>
    /// Resizes uint8 [N, C, H, W] to [N, C, size, size]: the shorter side is scaled to
    /// <paramref name="size"/> with torch's bicubic interpolation (antialiased when shrinking),
    /// then the centre is cropped. Whole tensors in chunks rather than Skia per image, because
    /// 70,000 small images take seconds one by one and well under one this way.
    /// </summary>
    public static Tensor Resize(Tensor pixels, int size)
    {
        var (h, w) = (pixels.shape[2], pixels.shape[3]);
        if (h == size && w == size) return pixels.alias();
        var scale = (double)size / Math.Min(h, w);
        var (scaledH, scaledW) = (Math.Max(size, (long)Math.Round(h * scale)), Math.Max(size, (long)Math.Round(w * scale)));
        var (top, left) = ((scaledH - size) / 2, (scaledW - size) / 2);
        const long chunk = 4096;
        var parts = new List<Tensor>();
        try
        {
            for (long start = 0; start < pixels.shape[0]; start += chunk)
            {
                using var scope = NewDisposeScope();
                var x = pixels.narrow(0, start, Math.Min(chunk, pixels.shape[0] - start)).to(ScalarType.Float32);
                var scaled = nn.functional.interpolate(x, new[] { scaledH, scaledW }, mode: InterpolationMode.Bicubic, align_corners: false, antialias: scale < 1);
                var cropped = scaled.narrow(2, top, size).narrow(3, left, size);
                parts.Add(cropped.round().clamp(0, 255).to(ScalarType.Byte).MoveToOuterDisposeScope());
            }
            return cat(parts, 0);
        }
        finally
        {
            foreach (var part in parts) part.Dispose();
        }
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
