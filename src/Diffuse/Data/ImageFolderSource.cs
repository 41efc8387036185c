using SkiaSharp;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// A folder of PNG and JPEG files decoded with SkiaSharp. With sub-folders, each sub-folder is a
/// class (names sorted ordinally give the labels; hidden folders are skipped) and its images are found at any depth; files
/// directly in the root are then ignored with a warning. Without sub-folders the root's images form
/// an unlabelled dataset. Files are read in ordinal path order; unreadable ones are skipped with a
/// warning naming each and a count at the end. A <see cref="ImageDatasets.CaptionsFile"/> at the root gives the images
/// captions (see <see cref="ReadCaptions"/>).
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
        var captionsByPath = ReadCaptions(folder, files.Select(f => f.Path), warn);
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
        var captions = captionsByPath is null ? null
            : usable.Select(i => captionsByPath.TryGetValue(kept[i].Path, out var c) ? (IReadOnlyList<string>)c : []).ToArray();
        return new ImageDataset(folder, pixelTensor, labels, classNames, captions);
    }

    /// <summary>
    /// The captions of <paramref name="images"/> from the folder's <see cref="ImageDatasets.CaptionsFile"/>, keyed by image
    /// path (null without the file): lines 'path&lt;TAB&gt;caption' with the path relative to the folder ('/' or '\'
    /// separated); several lines for one path give it several captions, kept in file order; an empty caption is allowed (the
    /// unconditional input); blank lines and lines starting with # are skipped. A line without a tab or naming no image of
    /// the folder is a one-line error with its line number; images that no line names get no caption (a warning counts them).
    /// </summary>
    internal static Dictionary<string, List<string>>? ReadCaptions(string folder, IEnumerable<string> images, Action<string> warn)
    {
        var file = Path.Combine(folder, ImageDatasets.CaptionsFile);
        if (!File.Exists(file)) return null;
        var byRelative = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var image in images) byRelative[Relative(folder, image)] = image;
        var captions = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (line, key, caption) in IO.TabSeparatedLines.Read(file, "path<TAB>caption"))
        {
            var name = key.Trim().Replace('\\', '/');
            if (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
            if (!byRelative.TryGetValue(name, out var path))
                throw new DiffuseException($"{file}:{line}: '{name}' is not an image of '{folder}' (paths are relative to the folder, e.g. 'cats/a.png')");
            if (!captions.TryGetValue(path, out var list)) captions[path] = list = [];
            list.Add(caption.Trim());
        }
        var uncaptioned = byRelative.Count - captions.Count;
        if (uncaptioned > 0)
            warn($"{uncaptioned} of {byRelative.Count} images have no line in '{file}'; they train with the empty caption (unconditional)");
        return captions;
    }

    static string Relative(string folder, string path) => Path.GetRelativePath(folder, path).Replace('\\', '/');

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
