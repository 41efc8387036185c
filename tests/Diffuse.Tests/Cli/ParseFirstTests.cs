using System.Diagnostics;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>
/// The whole command line is parsed and checked before any work starts: a malformed value given to the slowest commands
/// (which would load a dataset, train the quality classifier or a network first) fails at once, with exit 2, one line, and
/// nothing written.
/// </summary>
[Collection(CliCollection.Name)]
public class ParseFirstTests(TrainedModel trained)
{
    public static TheoryData<string, string[]> SlowCommands => new()
    {
        { "--seed", ["eval", "quality", "--model", "{model}", "--data", "mnist", "--n", "100", "--seed", "1e3"] },
        { "--n", ["eval", "--model", "{model}", "--data", "mnist", "--n", "many"] },
        { "--seed", ["eval", "img2img", "--model", "{model}", "--strengths", "0.5", "--seed", "x"] },
        { "--strengths", ["eval", "img2img", "--model", "{model}", "--strengths", "0.5,2"] },
        { "--resample", ["eval", "inpaint", "--model", "{model}", "--resample", "0"] },
        { "--seed", ["eval", "cas", "--synthetic", "{cache}", "--data", "mnist", "--seed", "x"] },
        { "--seed", ["train", "--data", "mnist", "--out", "{out}", "--seed", "x"] },
        { "--lr", ["train", "--data", "mnist", "--out", "{out}", "--steps", "10", "--lr", "fast"] },
        { "--seed", ["demo", "--data", "mnist", "--out", "{out}", "--seed", "x"] },
        { "--steps", ["demo", "--out", "{out}", "--steps", "0"] },
    };

    [Theory]
    [MemberData(nameof(SlowCommands))]
    public void AMalformedValueFailsBeforeAnyWork(string option, string[] template)
    {
        var folder = trained.NewFolder();
        var cache = Path.Combine(folder, "cache");
        Directory.CreateDirectory(cache);
        var outDir = Path.Combine(folder, "out");
        var argv = template.Select(t => t.Replace("{model}", trained.Model).Replace("{cache}", cache).Replace("{out}", outDir))
            .Concat(template[0] == "eval" && template[1] == "cas" ? [] : new[] { "--cache-dir", cache }).ToArray();
        Run("--version"); // the command tree once, so that the timing below is the parse alone
        var clock = Stopwatch.StartNew();
        var result = Fails(2, argv);
        clock.Stop();
        Assert.Contains(option, result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"diffuse {string.Join(' ', argv)} took {clock.Elapsed.TotalSeconds:F2} s to fail");
        Assert.Empty(Directory.GetFileSystemEntries(cache));
        Assert.False(Directory.Exists(outDir));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public void VersionAndTheEvaluationsAreListed()
    {
        Assert.StartsWith("diffuse ", RunOk("--version").Stdout);
        var help = RunOk("eval", "--help").Stdout;
        foreach (var evaluation in new[] { "quality", "nll", "inpaint", "img2img", "superres", "cascade", "cas" })
            Assert.Contains($"  {evaluation} ", help);
        Assert.Contains("--nll-images", RunOk("eval", "nll", "--help").Stdout);
        Assert.Contains("Usage:", RunOk("help").Stdout);
    }
}
