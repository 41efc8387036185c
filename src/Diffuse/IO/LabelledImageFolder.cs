using static TorchSharp.torch;

namespace Diffuse.IO;

/// <summary>
/// A labelled image dataset on disk in the layout that <c>Data.ImageDatasets</c> reads back: one sub-folder per class,
/// named by <see cref="FolderName"/> of the class name, holding 000000.png, 000001.png, ... The whole folder is written
/// into a hidden sibling first and then renamed into place, so a failure or a kill leaves either nothing or the complete
/// set (never half a dataset), and an existing folder is replaced only when asked and only when Diffuse wrote it
/// (<see cref="OutputFolder"/>: the folder carries <see cref="OutputFolder.MarkerFile"/>).
/// </summary>
public static class LabelledImageFolder
{
    static readonly char[] Unsafe = ['/', '\\', ':', '*', '?', '"', '<', '>', '|', '\0'];

    /// <summary>
    /// The sub-folder of a class: its name with characters that no file name may hold (e.g. the '/' of Fashion-MNIST's
    /// "T-shirt/top") replaced by '-', and a leading '.' (a hidden folder, which loaders skip) by '_'.
    /// </summary>
    public static string FolderName(string className)
    {
        var chars = className.Trim().Select(c => Unsafe.Contains(c) || char.IsControl(c) ? '-' : c).ToArray();
        var name = new string(chars);
        if (name.Length == 0) return "_";
        return name[0] == '.' ? "_" + name[1..] : name;
    }

    /// <summary>
    /// Refuses a target the write would damage (<see cref="OutputFolder.CheckReplaceable"/>): a file, a folder that is not
    /// empty unless <paramref name="force"/> is set, and even then one Diffuse did not write, the working folder or one
    /// above it, or one holding any of <paramref name="protect"/> (the model being exported). Called before the images are
    /// drawn, so that a long sampling run is not lost at the end.
    /// </summary>
    public static void CheckTarget(string directory, bool force, IEnumerable<string>? protect = null) =>
        OutputFolder.CheckReplaceable(directory, force, protect);

    /// <summary>
    /// Writes <paramref name="images"/> [N, C, H, W] in [-1, 1] with <paramref name="labels"/> (N class indices into
    /// <paramref name="classNames"/>) to <paramref name="directory"/>; every class gets its folder, even an empty one.
    /// Returns the number of images written per class (label order).
    /// </summary>
    public static long[] Write(string directory, Tensor images, IReadOnlyList<long> labels, IReadOnlyList<string> classNames, bool force,
        IEnumerable<string>? protect = null)
    {
        var kept = protect?.ToArray();
        CheckTarget(directory, force, kept);
        if (images.dim() != 4 || images.shape[0] != labels.Count)
            throw new DiffuseException($"{labels.Count} labels need images [{labels.Count}, C, H, W], got [{string.Join(", ", images.shape)}]");
        var folders = classNames.Select(FolderName).ToArray();
        var clash = folders.GroupBy(f => f, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new DiffuseException($"two classes share the folder name '{clash.Key}'; rename the classes");
        foreach (long label in labels)
            if (label < 0 || label >= classNames.Count)
                throw new DiffuseException($"label {label} is outside the classes 0..{classNames.Count - 1}");

        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        Leftovers.RemoveStale(parent, Path.GetFileName(full));
        var staging = Leftovers.StagingFolder(parent, Path.GetFileName(full));
        var counts = new long[classNames.Count];
        try
        {
            Directory.CreateDirectory(staging);
            OutputFolder.Mark(staging);
            for (int k = 0; k < classNames.Count; k++)
            {
                var folder = Path.Combine(staging, folders[k]);
                Directory.CreateDirectory(folder);
                var rows = Enumerable.Range(0, labels.Count).Where(i => labels[i] == k).Select(i => (long)i).ToArray();
                counts[k] = rows.Length;
                if (rows.Length == 0) continue;
                using var scope = NewDisposeScope();
                ImageGrid.WriteEach(folder, images.index_select(0, tensor(rows)));
            }
            CheckTarget(directory, force, kept); // again: the folder may have changed while the images were written
            Publish(staging, full);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        return counts;
    }

    /// <summary>Renames the staged folder into place; an existing target is moved aside first and deleted after.</summary>
    static void Publish(string staging, string full)
    {
        if (Directory.Exists(full) && !Directory.EnumerateFileSystemEntries(full).Any()) Directory.Delete(full);
        if (!Directory.Exists(full))
        {
            Directory.Move(staging, full);
            return;
        }
        var old = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.old-{Guid.NewGuid():N}");
        Directory.Move(full, old);
        try
        {
            Directory.Move(staging, full);
        }
        catch
        {
            Directory.Move(old, full);
            throw;
        }
        Directory.Delete(old, recursive: true);
    }
}
