using Xunit;

namespace Diffuse.Tests.Cli;

/// <summary>What one <c>Cli.Run</c> returned and printed.</summary>
sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

static class CliHarness
{
    /// <summary>Settings that train in about a second: a 16-wide, 1-block MLP, 30 steps, 50 timesteps.</summary>
    public static readonly string[] TinyTraining = ["--hidden", "16", "--blocks", "1", "--steps", "30", "--timesteps", "50", "--batch-size", "64"];

    public static CliResult Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Diffuse.Cli.Cli.Run(argv, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public static CliResult RunOk(params string[] argv)
    {
        var result = Run(argv);
        Assert.True(result.ExitCode == 0, $"diffuse {string.Join(' ', argv)} exited {result.ExitCode}: {result.Stderr}");
        return result;
    }

    /// <summary>Runs a command that must fail with exit <paramref name="code"/> and one "error: " line, no stack trace.</summary>
    public static CliResult Fails(int code, params string[] argv)
    {
        var result = Run(argv);
        Assert.True(result.ExitCode == code, $"diffuse {string.Join(' ', argv)} exited {result.ExitCode}, expected {code}:\n{result.Stdout}\n{result.Stderr}");
        Assert.Single(result.StderrLines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Exception", result.Stderr);
        return result;
    }

    /// <summary><paramref name="defaults"/> (option, value, ...) with the (option, value) pairs of <paramref name="overrides"/> replacing or added.</summary>
    public static List<string> WithOverrides(IEnumerable<string> defaults, params string[] overrides)
    {
        var args = new List<string>(defaults);
        for (int i = 0; i < overrides.Length; i += 2)
        {
            int at = args.IndexOf(overrides[i]);
            if (at >= 0) args[at + 1] = overrides[i + 1];
            else args.AddRange([overrides[i], overrides[i + 1]]);
        }
        return args;
    }

    public static void Train(string outDir, long seed = 0, params string[] extra) =>
        RunOk(["train", "--data", "moons", "--out", outDir, "--seed", seed.ToString(), .. TinyTraining, .. extra]);
}

/// <summary>A tiny model trained once for all CLI tests, in a temp folder deleted at the end.</summary>
/// <summary>A temporary root folder shared by one collection's tests, deleted with the fixture; each test takes a fresh sub-folder.</summary>
public abstract class CliFixture(string prefix) : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");

    /// <summary>A fresh folder for one test, under <see cref="Root"/>.</summary>
    public string NewFolder()
    {
        var path = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }
}

public sealed class TrainedModel : CliFixture
{
    public TrainedModel() : base("diffuse-cli-tests")
    {
        Directory.CreateDirectory(Root);
        CliHarness.Train(Model, seed: 7);
    }

    public string Model => Path.Combine(Root, "model");

    /// <summary>A copy of the trained model that a test may damage.</summary>
    public string CopyModel()
    {
        var copy = Path.Combine(NewFolder(), "model");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Model)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<TrainedModel>
{
    public const string Name = "CLI with a trained model";
}
