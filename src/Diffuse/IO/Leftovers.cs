using System.Globalization;

namespace Diffuse.IO;

/// <summary>
/// The hidden names of what a write stages beside its target: <c>.NAME.staging-PID-GUID</c> folders
/// (<see cref="StagedDirectory"/>, <see cref="LabelledImageFolder"/>) and <c>.NAME.tmp-PID-GUID</c> files
/// (<see cref="AtomicFile"/>). A process killed during a save leaves them behind; the next save of the same target
/// removes those whose process is gone (never a live process's, so two writers never disturb each other).
/// </summary>
internal static class Leftovers
{
    /// <summary>How old a leftover in the older form without a process id (<c>.NAME.staging-GUID</c>) must be to be removed.</summary>
    public static readonly TimeSpan UnownedAge = TimeSpan.FromHours(1);

    /// <summary>A fresh staging folder's path for <paramref name="name"/> in <paramref name="parent"/> (not created).</summary>
    public static string StagingFolder(string parent, string name) => Path.Combine(parent, $".{name}.staging-{Owner()}");

    /// <summary>A fresh temporary file's path for <paramref name="name"/> in <paramref name="folder"/> (not created).</summary>
    public static string TemporaryFile(string folder, string name) => Path.Combine(folder, $".{name}.tmp-{Owner()}");

    /// <summary>Removes the staging folders and temporary files of <paramref name="name"/> in <paramref name="parent"/> that a dead process left; never throws.</summary>
    public static int RemoveStale(string parent, string name)
    {
        int removed = 0;
        try
        {
            if (!Directory.Exists(parent)) return 0;
            foreach (var entry in Directory.EnumerateFileSystemEntries(parent, $".{name}.*"))
            {
                var file = Path.GetFileName(entry);
                string rest = file[(name.Length + 2)..];
                string? owner = rest.StartsWith("staging-", StringComparison.Ordinal) ? rest["staging-".Length..]
                    : rest.StartsWith("tmp-", StringComparison.Ordinal) ? rest["tmp-".Length..] : null;
                if (owner is null || !IsStale(entry, owner)) continue;
                try
                {
                    if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                    else File.Delete(entry);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return removed;
    }

    static string Owner() => $"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}";

    static bool IsStale(string entry, string owner)
    {
        int dash = owner.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0 && int.TryParse(owner.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            return pid != Environment.ProcessId && !IsRunning(pid);
        // The older form names no process: only one old enough that no save can still be writing it.
        return DateTime.UtcNow - Directory.GetLastWriteTimeUtc(entry) > UnownedAge;
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
