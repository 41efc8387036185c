using System.Text.Json;
using System.Text.RegularExpressions;

namespace Diffuse.IO;

/// <summary>
/// What <c>--force</c> may replace. A folder is replaced as a whole only when it is empty or Diffuse wrote it: it holds
/// <see cref="MarkerFile"/> (written into every folder <see cref="LabelledImageFolder"/> creates), or it is recognisably a
/// Diffuse output written before the marker (class sub-folders of <c>000000.png</c>, ... only; a model folder: config.json
/// of format diffuse-model or diffuse-classifier beside the files a run writes, nothing else). Never the working folder
/// or a folder above it, a folder holding a model folder, or one that holds a path the caller protects (the input model).
/// </summary>
internal static partial class OutputFolder
{
    /// <summary>The file that marks a folder Diffuse created, so that a later <c>--force</c> may replace it.</summary>
    public const string MarkerFile = ".diffuse-folder";

    /// <summary>The files and folders a model folder holds besides its config.json (a run's state, grids, event files).</summary>
    static readonly string[] ModelEntries = ["model.safetensors", "ema.safetensors", "classifier.safetensors", "train_state", "samples", "tensorboard", MarkerFile];

    [GeneratedRegex(@"^\d{6}\.png$")] private static partial Regex ExportedImage();

    /// <summary>Writes <see cref="MarkerFile"/> into <paramref name="directory"/>, a folder Diffuse has just created.</summary>
    public static void Mark(string directory) =>
        File.WriteAllText(Path.Combine(directory, MarkerFile), "written by Diffuse: 'diffuse ... --force' may replace this folder\n");

    /// <summary>
    /// Refuses, in one line, to replace <paramref name="directory"/> as a whole: a file; the working folder or a folder above
    /// it; a folder holding one of <paramref name="protect"/>; a non-empty folder without <paramref name="force"/>; and with
    /// it, a folder Diffuse did not write (see the class remarks).
    /// </summary>
    public static void CheckReplaceable(string directory, bool force, IEnumerable<string>? protect = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (File.Exists(directory)) throw new DiffuseException($"'{directory}' is a file; give a folder");
        var full = Full(directory);
        if (Path.GetDirectoryName(full) is null) throw new DiffuseException($"cannot replace the root folder '{directory}'; name a new folder");
        if (Contains(full, Full(Environment.CurrentDirectory)))
            throw new DiffuseException($"'{directory}' is the working folder or holds it; name a new folder to write into");
        foreach (var kept in protect ?? [])
            if (Contains(full, Full(kept)))
                throw new DiffuseException($"'{directory}' holds '{kept}', which this command reads; name another folder to write into");
        if (!Directory.Exists(directory) || !Directory.EnumerateFileSystemEntries(directory).Any()) return;
        if (!force) throw DiffuseException.NeedsForce($"'{directory}' is not empty; pass --force to replace it or choose another folder");
        if (HoldsModelBelow(full))
            throw new DiffuseException($"'{directory}' holds a model folder; --force does not replace it, name another folder to write into");
        if (!WrittenByDiffuse(full))
            throw new DiffuseException($"'{directory}' holds files Diffuse did not write; --force replaces only folders Diffuse created (marked by {MarkerFile}) or empty ones, so empty it yourself or choose another folder");
    }

    /// <summary>True when <paramref name="directory"/> holds <see cref="MarkerFile"/> or is a Diffuse export or model folder.</summary>
    public static bool WrittenByDiffuse(string directory)
    {
        if (File.Exists(Path.Combine(directory, MarkerFile))) return true;
        return IsExport(directory) || IsModelFolder(directory);
    }

    /// <summary>Class sub-folders holding nothing but the numbered PNG files <see cref="LabelledImageFolder"/> writes.</summary>
    static bool IsExport(string directory)
    {
        var entries = Directory.GetFileSystemEntries(directory);
        return entries.Length > 0 && entries.All(e => Directory.Exists(e)
            && Directory.EnumerateFileSystemEntries(e).All(f => File.Exists(f) && ExportedImage().IsMatch(Path.GetFileName(f))));
    }

    /// <summary>A config.json of a Diffuse model or classifier and nothing but the files such a folder holds.</summary>
    static bool IsModelFolder(string directory)
    {
        if (!HasDiffuseConfig(directory)) return false;
        return Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)
            .All(name => name == ModelDirectory.ConfigFile || ModelEntries.Contains(name) || name!.StartsWith('.') && name.Contains(".tmp-"));
    }

    /// <summary>True when a folder below <paramref name="directory"/> (to a few levels) holds a model's or classifier's config.json.</summary>
    static bool HoldsModelBelow(string directory)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return Directory.EnumerateDirectories(directory, "*", options).Any(HasDiffuseConfig);
    }

    static bool HasDiffuseConfig(string directory)
    {
        var path = Path.Combine(directory, ModelDirectory.ConfigFile);
        if (!File.Exists(path)) return false;
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length > 64 << 20) return false;
            using var document = JsonDocument.Parse(stream);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String
                && format.GetString() is "diffuse-model" or "diffuse-classifier";
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or lies below it.</summary>
    static bool Contains(string folder, string path) =>
        path == folder || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
