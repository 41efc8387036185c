using System.Text.RegularExpressions;
using Xunit;

namespace Diffuse.Tests.Build;

/// <summary>
/// The library's namespaces form layers without cycles (docs/ARCHITECTURE.md): read from the sources, a namespace
/// depends on another when one of its files has a <c>using Diffuse.X</c>, a <c>Diffuse.X.</c> name, or a
/// <c>X.Type</c> name of a type declared in X (comments and strings left out).
/// </summary>
public partial class LayeringTests
{
    static readonly Lazy<Dictionary<string, HashSet<string>>> Graph = new(Build);

    static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Diffuse.slnx"))) return Path.Combine(dir.FullName, "src", "Diffuse");
        throw new InvalidOperationException("the repository root (Diffuse.slnx) is not above the test binaries");
    }

    [GeneratedRegex(@"^namespace Diffuse(?:\.(\w+))?", RegexOptions.Multiline)] private static partial Regex NamespaceLine();
    [GeneratedRegex(@"//.*")] private static partial Regex Comment();
    [GeneratedRegex(@"""(?:\\.|[^""\\])*""")] private static partial Regex StringLiteral();
    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+(\w+)")] private static partial Regex TypeDeclaration();
    [GeneratedRegex(@"^using (?:static )?Diffuse\.(\w+)", RegexOptions.Multiline)] private static partial Regex UsingLine();
    [GeneratedRegex(@"\bDiffuse\.(\w+)\.")] private static partial Regex FullName();
    [GeneratedRegex(@"(?<![\w.])(\w+)\.([A-Z]\w*)")] private static partial Regex QualifiedName();

    static Dictionary<string, HashSet<string>> Build()
    {
        var files = new List<(string Namespace, string Code)>();
        var declaredIn = new Dictionary<string, HashSet<string>>();
        foreach (var path in Directory.EnumerateFiles(SourceRoot(), "*.cs", SearchOption.AllDirectories))
        {
            if (path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            string text = File.ReadAllText(path);
            var m = NamespaceLine().Match(text);
            if (!m.Success) continue;
            string ns = m.Groups[1].Success ? m.Groups[1].Value : "(root)";
            string code = StringLiteral().Replace(Comment().Replace(text, ""), "\"\"");
            files.Add((ns, code));
            foreach (Match t in TypeDeclaration().Matches(code))
            {
                if (!declaredIn.TryGetValue(t.Groups[1].Value, out var set)) declaredIn[t.Groups[1].Value] = set = [];
                set.Add(ns);
            }
        }
        var namespaces = files.Select(f => f.Namespace).ToHashSet();
        var graph = namespaces.ToDictionary(n => n, _ => new HashSet<string>());
        foreach (var (ns, code) in files)
        {
            var deps = graph[ns];
            foreach (Match u in UsingLine().Matches(code)) deps.Add(u.Groups[1].Value);
            foreach (Match f in FullName().Matches(code)) deps.Add(f.Groups[1].Value);
            foreach (Match q in QualifiedName().Matches(code))
                if (namespaces.Contains(q.Groups[1].Value) && declaredIn.TryGetValue(q.Groups[2].Value, out var homes) && homes.Contains(q.Groups[1].Value))
                    deps.Add(q.Groups[1].Value);
            deps.Remove(ns);
            deps.IntersectWith(namespaces);
        }
        return graph;
    }

    [Fact]
    public void TheNamespacesHaveNoCycle()
    {
        var graph = Graph.Value;
        Assert.Contains("Configuration", graph.Keys);
        var cycles = new List<string>();
        foreach (var start in graph.Keys.Order())
        {
            // a path from start back to itself, by breadth-first search
            var previous = new Dictionary<string, string>();
            var queue = new Queue<string>(graph[start].Order());
            foreach (var n in graph[start]) previous[n] = start;
            while (queue.Count > 0)
            {
                var n = queue.Dequeue();
                if (n == start)
                {
                    var path = new List<string> { start };
                    for (var p = previous[start]; p != start; p = previous[p]) path.Add(p);
                    path.Add(start);
                    path.Reverse();
                    cycles.Add(string.Join(" -> ", path));
                    break;
                }
                foreach (var next in graph[n].Order())
                    if (previous.TryAdd(next, n)) queue.Enqueue(next);
            }
        }
        Assert.True(cycles.Count == 0, "namespace cycles: " + string.Join("; ", cycles));
    }

    [Theory]
    [InlineData("Configuration", new[] { "IO" })]
    [InlineData("IO", new string[0])]
    [InlineData("Models", new[] { "Configuration" })]
    [InlineData("Schedules", new[] { "Configuration" })]
    [InlineData("Process", new[] { "Configuration", "Schedules" })]
    public void TheLowerLayersDependOnlyOnLayersBelowThem(string layer, string[] allowed) =>
        Assert.Empty(Graph.Value[layer].Except(allowed));
}
