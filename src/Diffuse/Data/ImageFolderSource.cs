using SkiaSharp;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// A folder of PNG and JPEG files decoded with SkiaSharp. With sub-folders, each sub-folder is a
/// class (names sorted ordinally give the labels; hidden folders are skipped) and its images are found at any depth; files
/// directly in the root are then ignored with a warning. Without sub-folders the root's images form
/// an unlabelled dataset. Files are read in ordinal path order; unreadable ones are skipped with a
/// warning naming each and a count at the end.
/// </summary>
static class ImageFolderSource
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    public static ImageDataset Load(string folder, ImageLoadOptions options, Action<string> warn)
    {
        var size = options.ImageSize ?? ImageLoadOptions.DefaultFolderImageSize;
        // Hidden folders (.ipynb_checkpoints, .git) are never classes.
        var classFolders = Directory.GetDirectories(folder).Where(d => !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        var files = new List<(string Path, int Label)>();
        if (classFolders.Length > 0)
        {
            for (var k = 0; k < classFolders.Length; k++)
                files.AddRange(ImagesIn(classFolders[k], SearchOption.AllDirectories).Select(p => (p, k)));
            var loose = ImagesIn(folder, SearchOption.TopDirectoryOnly).Length;
            if (loose > 0) warn($"ignored {loose} image files directly in '{folder}': with class sub-folders, images belong in a sub-folder");
        }
        else
        {
            files.AddRange(ImagesIn(folder, SearchOption.TopDirectoryOnly).Select(p => (p, -1)));
        }
        var kept = options.KeptIndices(files.Count).Select(i => files[(int)i]).ToArray();

        var decoded = new (byte[] Planes, bool IsGray)?[kept.Length];
        Parallel.For(0, kept.Length, i => decoded[i] = Decode(kept[i].Path, size));
        var skipped = 0;
        for (var i = 0; i < kept.Length; i++)
        {
            if (decoded[i] is not null) continue;
            warn($"skipped unreadable image '{kept[i].Path}'");
            skipped++;
        }
        if (skipped > 0) warn($"skipped {skipped} unreadable file{(skipped == 1 ? "" : "s")}");

        var usable = Enumerable.Range(0, kept.Length).Where(i => decoded[i] is not null).ToArray();
        if (usable.Length == 0)
            throw new DiffuseException($"'{folder}' holds no readable PNG or JPEG image{(classFolders.Length > 0 ? " in its sub-folders" : "")}");
        var channels = options.Channels ?? (usable.All(i => decoded[i]!.Value.IsGray) ? 1 : 3);
        var area = size * size;
        var pixels = new byte[(long)usable.Length * channels * area];
        for (var n = 0; n < usable.Length; n++)
        {
            var planes = decoded[usable[n]]!.Value.Planes;
            if (channels == 3) Array.Copy(planes, 0, pixels, (long)n * 3 * area, 3 * area);
            else for (var p = 0; p < area; p++) pixels[(long)n * area + p] = Luma(planes[p], planes[area + p], planes[2 * area + p]);
        }
        var labelled = classFolders.Length > 0;
        var pixelTensor = tensor(pixels, new long[] { usable.Length, channels, size, size }, ScalarType.Byte);
        var labels = labelled ? tensor(usable.Select(i => (long)kept[i].Label).ToArray(), ScalarType.Int64) : null;
        var classNames = labelled ? classFolders.Select(Path.GetFileName).Select(n => n!).ToArray() : [];
        return new ImageDataset(folder, pixelTensor, labels, classNames);
    }

    static string[] ImagesIn(string folder, SearchOption depth) =>
        Directory.EnumerateFiles(folder, "*", depth)
            .Where(p => Extensions.Contains(Path.GetExtension(p).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToArray();

    static (byte[] Planes, bool IsGray)? Decode(string path, int size)
    {
        try
        {
            using var bitmap = SKBitmap.Decode(path);
            if (bitmap is null || bitmap.Width < 1 || bitmap.Height < 1) return null;
            return ImageResampler.SquareRgb(bitmap, size);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    // ITU-R BT.601 luma, as ImageResampler.ToChannels computes it for tensors.
    static byte Luma(byte r, byte g, byte b) => (byte)Math.Clamp(Math.Round(0.299 * r + 0.587 * g + 0.114 * b), 0, 255);
}
