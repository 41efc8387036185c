using System.Diagnostics;
using Diffuse.IO;
using Diffuse.Pipelines;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>
/// Issue 20 where the user meets it: --force never deletes what Diffuse did not write, a folder without weights is not a
/// model, a forced run killed before its first checkpoint never pairs its config with the old weights, oversized or
/// incomplete config files and non-finite samples are one-line errors.
/// </summary>
[Collection(ImageCliCollection.Name)]
public class HardeningCliTests(TrainedImageModel trained)
{
    static Dictionary<string, byte[]> Files(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    [Fact]
    public void ExportWithForceNeverDeletesTheModelItReadsNorOtherFiles()
    {
        var parent = trained.NewFolder();
        var model = Path.Combine(parent, "model");
        RunOk(["train", "--data", trained.Data, "--out", model, .. ImageCliTests.TinyImageTraining, "--cond", "class", "--cond-drop", "0.2"]);
        File.WriteAllText(Path.Combine(parent, "notes.txt"), "keep me");
        var before = Files(parent);

        var result = Fails(2, "export", "--model", model, "--out", parent, "--force", "--per-class", "1", "--steps", "2");

        Assert.Contains("--out", result.Stderr);
        Assert.Equal(before, Files(parent));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(parent)!, $".{Path.GetFileName(parent)}*"));
    }

    [Fact]
    public void AFolderWithAConfigButNoWeightsIsTrainedIntoWithoutForce()
    {
        var dir = Path.Combine(trained.NewFolder(), "points");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, ModelDirectory.ConfigFile), "{\"format\": \"diffuse-model\"}");

        RunOk(["train", "--data", "moons", "--out", dir, .. TinyTraining]);

        using var model = PointModel.Load(dir);
        Assert.Equal(2, model.Config.Data.Dim);
    }

    static System.Diagnostics.Process Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Diffuse.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = System.Diagnostics.Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public void AForcedRunKilledBeforeItsFirstCheckpointNeverPairsItsConfigWithTheOldWeights()
    {
        var dir = Path.Combine(trained.NewFolder(), "run");
        RunOk(["train", "--data", trained.Data, "--out", dir, .. ImageCliTests.TinyImageTraining]);
        var old = Files(dir);
        var oldConfig = File.ReadAllText(Path.Combine(dir, ModelDirectory.ConfigFile));

        // Checkpoints only at the end of 100,000 steps: every moment after the new config.json is before the first checkpoint.
        using (var process = Start(["train", "--data", trained.Data, "--out", dir, "--force", .. WithOverrides(ImageCliTests.TinyImageTraining, "--steps", "100000"), "--lr", "0.0005"]))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(dir, ModelDirectory.ConfigFile)) || File.ReadAllText(Path.Combine(dir, ModelDirectory.ConfigFile)) == oldConfig)
            {
                Assert.False(process.HasExited, "training exited early");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "no new config.json within 90 s");
                Thread.Sleep(10);
            }
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        Assert.Contains("\"steps\": 100000", File.ReadAllText(Path.Combine(dir, ModelDirectory.ConfigFile)));
        Assert.False(File.Exists(Path.Combine(dir, ModelDirectory.ModelFile)), "the new config.json sits beside the old weights");
        Assert.False(File.Exists(Path.Combine(dir, ModelDirectory.EmaFile)), "the new config.json sits beside the old weights");
        Assert.Contains("has no ema.safetensors", Fails(1, "sample", "--model", dir, "--n", "1", "--steps", "2", "--out", Path.Combine(trained.NewFolder(), "x.png")).Stderr);
        // The old model is kept, restorable, until a run's first checkpoint.
        var aside = Assert.Single(ModelDirectory.AsideFolders(dir));
        Assert.Equal(old, Files(aside));
        // And the folder is an unfinished run: training into it again needs no --force.
        RunOk(["train", "--data", trained.Data, "--out", dir, .. ImageCliTests.TinyImageTraining]);
        using var model = ImageModel.Load(dir);
        Assert.Equal(3, model.Config.Training.Steps);
    }

    [Fact]
    public void SamplesThatAreNotFiniteAreAnErrorAndNothingIsWritten()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var model = Pipelines.NonFiniteSampleTests.WriteNanModel(folder);
        var csv = folder.File("samples.csv");

        var result = Fails(1, "sample", "--model", model, "--n", "20", "--steps", "5", "--out", csv);

        Assert.Contains("20 of 20 samples are not finite", result.Stderr);
        Assert.False(File.Exists(csv));
        Assert.Empty(Directory.GetFiles(folder.Path, ".*"));
    }

    static string ModelWithConfig(Diffuse.Tests.IO.TempFolder folder, Action<System.Text.Json.Nodes.JsonObject> change)
    {
        var dir = Pipelines.OversizedConfigTests.WriteModel(folder, Pipelines.OversizedConfigTests.SmallPoints);
        var path = Path.Combine(dir, ModelDirectory.ConfigFile);
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(root);
        File.WriteAllText(path, root.ToJsonString());
        return dir;
    }

    [Theory]
    [InlineData("scheduler", "num_train_timesteps", 2147483647L, "scheduler num_train_timesteps must be at most 100000")]
    [InlineData("network", "hidden_dim", 2000000000L, "model hidden_dim must be at most 65536")]
    [InlineData("network", "blocks", 100000000L, "model blocks must be at most 1000")]
    public void AConfigOfHugeSizesIsAOneLineErrorNamingTheKeyAndTheFile(string section, string key, long value, string expected)
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var model = ModelWithConfig(folder, root => root[section]![key] = value);
        var clock = Stopwatch.StartNew();

        var result = Fails(1, "sample", "--model", model, "--n", "10", "--steps", "5", "--out", folder.File("x.csv"));

        Assert.Contains(expected, result.Stderr);
        Assert.Contains(Path.Combine(model, ModelDirectory.ConfigFile), result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void AConfigMissingARequiredKeyOrOfAWrongTypeIsAOneLineErrorInPlainWords()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var missing = ModelWithConfig(folder, root => root["scheduler"]!.AsObject().Remove("num_train_timesteps"));
        Assert.Contains("has no 'scheduler.num_train_timesteps'", Fails(1, "sample", "--model", missing, "--n", "10", "--steps", "5", "--out", folder.File("x.csv")).Stderr);

        var wrong = ModelWithConfig(folder, root => root["scheduler"]!["num_train_timesteps"] = "many");
        var stderr = Fails(1, "sample", "--model", wrong, "--n", "10", "--steps", "5", "--out", folder.File("y.csv")).Stderr;
        Assert.Contains("'scheduler.num_train_timesteps' must be a whole number", stderr);
        Assert.DoesNotContain("System.", stderr);
        Assert.False(File.Exists(folder.File("x.csv")) || File.Exists(folder.File("y.csv")));
    }
}
