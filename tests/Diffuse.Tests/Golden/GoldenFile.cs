using System.Text.Json;

namespace Diffuse.Tests.Golden;

/// <summary>tests/golden/math.json, written by tests/golden/make_golden.py (PyTorch), found from the test binary upwards.</summary>
internal static class GoldenFile
{
    private static readonly Lazy<JsonElement> Root = new(() => Load("math.json"));

    /// <summary>tests/golden/<paramref name="fileName"/> (each make_*_golden.py script writes its own), found from the test binary upwards.</summary>
    public static JsonElement Load(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "golden", fileName);
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
        }
        throw new FileNotFoundException($"tests/golden/{fileName} not found above " + AppContext.BaseDirectory);
    }

    public static IEnumerable<object[]> Cases(string section) =>
        Enumerable.Range(0, Root.Value.GetProperty(section).GetArrayLength()).Select(i => new object[] { i });

    public static JsonElement Case(string section, int index) => Root.Value.GetProperty(section)[index];

    public static double[] Doubles(this JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();
}
