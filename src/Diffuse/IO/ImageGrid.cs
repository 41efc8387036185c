using SkiaSharp;
using static TorchSharp.torch;

namespace Diffuse.IO;

/// <summary>
/// PNG output of image batches [N, C, H, W] in [-1, 1] (C = 1 gray, C = 3 RGB) through
/// SkiaSharp: one grid image, or one file per image. Values outside [-1, 1] are clamped.
/// </summary>
public static class ImageGrid
{
    /// <summary>
    /// The images tiled row by row into <paramref name="columns"/> columns (default
    /// ceil(sqrt(N))) with <paramref name="padding"/> black pixels around and between them, as PNG
    /// bytes. The grid is (rows * (H + padding) + padding) high and likewise wide.
    /// </summary>
    public static byte[] EncodePng(Tensor images, int? columns = null, int padding = 2)
    {
        var (n, c, h, w) = CheckShape(images);
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), "the padding must be at least 0");
        var cols = columns ?? (int)Math.Ceiling(Math.Sqrt(n));
        if (cols < 1) throw new ArgumentOutOfRangeException(nameof(columns), "a grid has at least one column");
        cols = Math.Min(cols, n);
        var rows = (n + cols - 1) / cols;
        var width = cols * (w + padding) + padding;
        var height = rows * (h + padding) + padding;
        var pixels = Bytes(images);
        var grid = new byte[(long)width * height * 4];
        for (var i = 3; i < grid.Length; i += 4) grid[i] = 255;
        for (var k = 0; k < n; k++)
        {
            var (x0, y0) = (padding + k % cols * (w + padding), padding + k / cols * (h + padding));
            Blit(pixels, k, c, h, w, grid, width, x0, y0);
        }
        return Encode(grid, width, height);
    }

    /// <summary>Writes <see cref="EncodePng"/>'s grid to <paramref name="path"/> atomically.</summary>
    public static void WritePng(string path, Tensor images, int? columns = null, int padding = 2) =>
        AtomicFile.WriteAllBytes(path, EncodePng(images, columns, padding));

    /// <summary>
    /// Writes each image to <paramref name="folder"/> (created if missing) as a six-digit PNG named
    /// from <paramref name="startIndex"/> on (000000.png, 000001.png, ...); returns the paths.
    /// </summary>
    public static IReadOnlyList<string> WriteEach(string folder, Tensor images, int startIndex = 0)
    {
        var (n, c, h, w) = CheckShape(images);
        ArgumentOutOfRangeException.ThrowIfNegative(startIndex);
        Directory.CreateDirectory(folder);
        var pixels = Bytes(images);
        var paths = new List<string>(n);
        for (var k = 0; k < n; k++)
        {
            var rgba = new byte[(long)w * h * 4];
            Blit(pixels, k, c, h, w, rgba, w, 0, 0);
            for (var i = 3; i < rgba.Length; i += 4) rgba[i] = 255;
            var path = Path.Combine(folder, $"{startIndex + k:D6}.png");
            AtomicFile.WriteAllBytes(path, Encode(rgba, w, h));
            paths.Add(path);
        }
        return paths;
    }

    static (int N, int C, int H, int W) CheckShape(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3) || images.shape[0] < 1)
            throw new ArgumentException($"expected images [N >= 1, C = 1 or 3, H, W], not [{string.Join(", ", images.shape)}]", nameof(images));
        return ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
    }

    static byte[] Bytes(Tensor images)
    {
        using var bytes = PixelScale.ToBytes(images);
        using var contiguous = bytes.contiguous();
        return contiguous.data<byte>().ToArray();
    }

    // Copies image k (planar, C channels) into an RGBA buffer of the given row width at (x0, y0); alpha is left alone.
    static void Blit(byte[] pixels, int k, int c, int h, int w, byte[] rgba, int rowWidth, int x0, int y0)
    {
        var area = h * w;
        var offset = (long)k * c * area;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var source = offset + y * w + x;
                var target = 4 * ((long)(y0 + y) * rowWidth + x0 + x);
                for (var ch = 0; ch < 3; ch++) rgba[target + ch] = pixels[source + (c == 1 ? 0 : ch * area)];
            }
        }
    }

    static byte[] Encode(byte[] rgba, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
