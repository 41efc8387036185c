using SkiaSharp;
using static TorchSharp.torch;

namespace Diffuse.IO;

/// <summary>
/// Reads single images (PNG, JPEG, ...) for the editing commands: uint8 [C, H, W] with C = 1 for a grayscale image (every
/// pixel's R = G = B) and 3 otherwise; transparency is ignored. Problems are one-line <see cref="DiffuseException"/>s.
/// </summary>
public static class ImageFile
{
    /// <summary>The image at <paramref name="path"/>, uint8 [1 or 3, H, W].</summary>
    public static Tensor Read(string path, string what = "image")
    {
        if (Directory.Exists(path)) throw new DiffuseException($"the {what} '{path}' is a folder; give an image file");
        if (!File.Exists(path)) throw new DiffuseException($"the {what} '{path}' does not exist");
        SKBitmap? bitmap;
        try
        {
            bitmap = SKBitmap.Decode(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            throw new DiffuseException($"cannot read the {what} '{path}': {e.Message.Split('\n')[0]}");
        }
        if (bitmap is null || bitmap.Width < 1 || bitmap.Height < 1)
            throw new DiffuseException($"the {what} '{path}' is not an image SkiaSharp can decode (PNG, JPEG, ...), or it is truncated");
        using (bitmap)
        {
            int w = bitmap.Width, h = bitmap.Height;
            var colors = bitmap.Pixels;
            bool gray = colors.All(c => c.Red == c.Green && c.Green == c.Blue);
            int channels = gray ? 1 : 3;
            var planes = new byte[channels * h * w];
            for (int i = 0; i < colors.Length; i++)
            {
                planes[i] = colors[i].Red;
                if (!gray)
                {
                    planes[h * w + i] = colors[i].Green;
                    planes[2 * h * w + i] = colors[i].Blue;
                }
            }
            return tensor(planes, new long[] { channels, h, w }, ScalarType.Byte);
        }
    }

    /// <summary>
    /// A black-and-white mask, float32 [1, H, W]: 1 where white (255), 0 where black (0); any other value, or color, is an error.
    /// </summary>
    public static Tensor ReadMask(string path)
    {
        using var pixels = Read(path, "mask");
        if (pixels.shape[0] != 1) throw new DiffuseException($"the mask '{path}' has color; it must be black (keep) and white (regenerate)");
        using var gray = pixels.ne(0).logical_and(pixels.ne(255));
        long between = gray.sum().item<long>();
        if (between > 0)
            throw new DiffuseException($"the mask '{path}' must be black (keep) and white (regenerate) only; {between} of its {pixels.numel()} pixels are gray");
        using var white = pixels.eq(255);
        return white.to_type(ScalarType.Float32);
    }
}
