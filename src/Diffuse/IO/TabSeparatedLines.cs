namespace Diffuse.IO;

/// <summary>
/// The small 'key&lt;TAB&gt;value' files users write (captions.tsv, eval's --prompts): blank lines and lines starting with #
/// are skipped, every other line must hold a tab; the key is what comes before the first tab, the value the rest.
/// </summary>
public static class TabSeparatedLines
{
    /// <summary>
    /// The (1-based line number, key, value) of each line of <paramref name="path"/>, untrimmed; a line without a tab is a
    /// one-line <see cref="DiffuseException"/> "PATH:LINE: expected '<paramref name="shape"/>', got '...'".
    /// </summary>
    public static IReadOnlyList<(int Line, string Key, string Value)> Read(string path, string shape)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiffuseException($"cannot read '{path}': {e.Message}");
        }
        var result = new List<(int, string, string)>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            int tab = line.IndexOf('\t');
            if (tab < 0) throw new DiffuseException($"{path}:{i + 1}: expected '{shape}', got '{(line.Length <= 60 ? line : line[..57] + "...")}'");
            result.Add((i + 1, line[..tab], line[(tab + 1)..]));
        }
        return result;
    }
}
