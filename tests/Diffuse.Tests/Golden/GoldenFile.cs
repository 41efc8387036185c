using System.Text.Json;

namespace Diffuse.Tests.Golden;

/// <summary>
/// The JSON files under tests/golden/ (math.json by default, written by tests/golden/make_golden.py; others by their
/// own make_*_golden.py), found from the test binary upwards.
/// </summary>
internal static class GoldenFile
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonElement> Files = new();

    private static JsonElement Root(string file) => Files.GetOrAdd(file, name =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "golden", name);
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
        }
        throw new FileNotFoundException($"tests/golden/{name} not found above " + AppContext.BaseDirectory);
    });

    /// <summary>tests/golden/<paramref name="fileName"/> (each make_*_golden.py script writes its own), found from the test binary upwards.</summary>
    public static JsonElement Load(string fileName) => Root(fileName);

    public static IEnumerable<object[]> Cases(string section, string file = "math.json") =>
        Enumerable.Range(0, Root(file).GetProperty(section).GetArrayLength()).Select(i => new object[] { i });

    public static JsonElement Case(string section, int index, string file = "math.json") => Root(file).GetProperty(section)[index];

    public static double[] Doubles(this JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();
}
