using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Diffuse.IO;
using SkiaSharp;

namespace Diffuse.Tests.Data;

/// <summary>Synthetic image files for the data tests: PNG/JPEG written with SkiaSharp, IDX files, npm-like .tgz packages.</summary>
static class SyntheticImages
{
    /// <summary>Writes a solid-colour image (PNG or JPEG by extension) of the given size.</summary>
    public static void WriteSolid(string path, int width, int height, SKColor color)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(color);
        var format = path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Writes an MNIST-style pair of IDX files: image i has every pixel equal to i % 256, label i % classes.</summary>
    public static void WriteIdxPair(string folder, string part, int count, int height, int width, int classes)
    {
        var pixels = new byte[count * height * width];
        for (var i = 0; i < count; i++) Array.Fill(pixels, (byte)(i % 256), i * height * width, height * width);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % classes)).ToArray();
        IdxFile.WriteFile(Path.Combine(folder, $"{part}-images-idx3-ubyte"), [count, height, width], pixels);
        IdxFile.WriteFile(Path.Combine(folder, $"{part}-labels-idx1-ubyte"), [count], labels);
    }

    /// <summary>Writes an npm-pack-style .tgz holding package/package.json and the given files under package/.</summary>
    public static void WriteTgz(string path, IReadOnlyDictionary<string, string> files)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Ustar);
        foreach (var (name, text) in files.Append(new("package.json", "{\"name\":\"synthetic\"}")))
        {
            var entry = new UstarTarEntry(TarEntryType.RegularFile, $"package/{name}") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
            tar.WriteEntry(entry);
        }
    }
}
