namespace Diffuse.IO;

/// <summary>
/// Writes a folder's files so that a reader never sees a half-written set: they go into a fresh
/// sibling folder first. A target that does not exist (or is empty) is then replaced by a single
/// rename; files of a target that exists are replaced one by one, each by a rename, with
/// <see cref="LastFile"/> (config.json) last, so that it marks the folder complete.
/// </summary>
internal static class StagedDirectory
{
    public const string LastFile = "config.json";

    public static void Commit(string directory, Action<string> write)
    {
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full) ?? throw new DiffuseException($"cannot write a model to the root folder '{directory}'");
        System.IO.Directory.CreateDirectory(parent);
        // A save killed before its rename left its staging folder: gone at the next save of the same folder.
        Leftovers.RemoveStale(parent, Path.GetFileName(full));
        var staging = Leftovers.StagingFolder(parent, Path.GetFileName(full));
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            if (System.IO.Directory.Exists(full) && !System.IO.Directory.EnumerateFileSystemEntries(full).Any())
                System.IO.Directory.Delete(full);
            if (!System.IO.Directory.Exists(full))
            {
                System.IO.Directory.Move(staging, full);
                return;
            }
            foreach (var file in new DirectoryInfo(staging).GetFiles().OrderBy(f => f.Name == LastFile ? 1 : 0).ThenBy(f => f.Name, StringComparer.Ordinal))
                File.Move(file.FullName, Path.Combine(full, file.Name), overwrite: true);
            System.IO.Directory.Delete(staging, recursive: true);
        }
        catch
        {
            if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
            throw;
        }
    }
}
