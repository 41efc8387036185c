using System.CommandLine;
using System.CommandLine.Parsing;

namespace Diffuse.Cli;

/// <summary>
/// The output folders a command may create (<c>--out</c>, <c>--out-dir</c>) that did not exist before it ran, down from the
/// first missing one; after a failure or an interruption those left empty are removed, so that a command that wrote
/// nothing leaves nothing. A folder that existed before is never touched.
/// </summary>
public sealed class CreatedFolders
{
    static readonly string[] OutputOptions = ["--out", "--out-dir"];

    /// <summary>Each output path with the first of its folders (itself or a parent) that does not exist yet.</summary>
    readonly List<(string Path, string Top)> missing = [];

    public static CreatedFolders Before(ParseResult result)
    {
        var folders = new CreatedFolders();
        foreach (var option in result.CommandResult.Command.Options.Where(o => OutputOptions.Contains(o.Name)))
        {
            if (result.GetResult(option) is not OptionResult { Implicit: false } given || given.Tokens.Count == 0) continue;
            string text = given.Tokens[^1].Value;
            if (text.Length == 0) continue;
            try
            {
                var full = Path.GetFullPath(text).TrimEnd(Path.DirectorySeparatorChar);
                string? top = null;
                for (var dir = full; !string.IsNullOrEmpty(dir) && !Directory.Exists(dir) && !File.Exists(dir); dir = Path.GetDirectoryName(dir))
                    top = dir;
                if (top is not null) folders.missing.Add((full, top));
            }
            catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException or System.Security.SecurityException)
            {
            }
        }
        return folders;
    }

    /// <summary>Removes the recorded folders that exist now and are empty, from the output path up to the first one created.</summary>
    public void RemoveEmpty()
    {
        foreach (var (path, top) in missing)
        {
            for (var dir = path; dir is not null && dir.Length >= top.Length; dir = Path.GetDirectoryName(dir))
            {
                try
                {
                    if (!Directory.Exists(dir) || Directory.EnumerateFileSystemEntries(dir).Any()) break;
                    Directory.Delete(dir);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    break;
                }
            }
        }
    }
}
