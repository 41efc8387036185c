using System.Text;
using System.Text.Json.Nodes;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

[Collection(CliCollection.Name)]
public class BadInputTests(TrainedModel trained)
{
    /// <summary>Runs the command and checks the failure contract: non-zero exit, one "error:" line on stderr, no stack trace.</summary>
    static CliResult Fails(params string[] argv)
    {
        var result = Run(argv);
        Assert.True(result.ExitCode != 0, $"diffuse {string.Join(' ', argv)} succeeded:\n{result.Stdout}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.True(line.Length > "error: ".Length + 5, line);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Exception", result.Stderr);
        return result;
    }

    /// <summary><paramref name="argv"/> with <paramref name="option"/> set to <paramref name="value"/>, replacing any earlier value.</summary>
    static string[] With(string[] argv, string option, string value)
    {
        int at = Array.IndexOf(argv, option);
        if (at < 0) return [.. argv, option, value];
        var copy = (string[])argv.Clone();
        copy[at + 1] = value;
        return copy;
    }

    string OutCsv() => Path.Combine(trained.NewFolder(), "out.csv");

    /// <summary>Samples from <paramref name="model"/> and expects the failure contract, with no output file written.</summary>
    CliResult SampleFails(string model, params string[] extra)
    {
        var outFile = OutCsv();
        string[] argv = ["sample", "--model", model, "--out", outFile, "--n", "10", "--steps", "5"];
        for (int i = 0; i + 1 < extra.Length; i += 2) argv = With(argv, extra[i], extra[i + 1]);
        var result = Fails(argv);
        Assert.False(File.Exists(outFile));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(outFile)!));
        return result;
    }

    [Fact]
    public void UnknownCommand()
    {
        var result = Fails("frobnicate");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'frobnicate'", result.Stderr);
    }

    [Fact]
    public void UnknownOption()
    {
        var outDir = Path.Combine(trained.NewFolder(), "m");
        var result = Fails("train", "--out", outDir, "--colour", "blue");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--colour", result.Stderr);
        Assert.False(Directory.Exists(outDir));
        Assert.Contains("--bogus", Fails("samplers", "--bogus").Stderr);
    }

    [Theory]
    [InlineData("--data", "spirals", "'spirals'")]
    [InlineData("--schedule", "zigzag", "'zigzag'")]
    [InlineData("--prediction", "noise", "'noise'")]
    [InlineData("--loss", "l1", "'l1'")]
    [InlineData("--steps", "abc", "--steps")]
    [InlineData("--steps", "0", "--steps")]
    [InlineData("--steps", "2.5", "--steps")]
    [InlineData("--lr", "-1", "--lr")]
    [InlineData("--lr", "0", "--lr")]
    [InlineData("--lr", "fast", "--lr")]
    [InlineData("--lr", "NaN", "--lr")]
    [InlineData("--timesteps", "0", "--timesteps")]
    [InlineData("--hidden", "0", "--hidden")]
    [InlineData("--batch-size", "-3", "--batch-size")]
    [InlineData("--ema-decay", "1", "decay")]
    [InlineData("--seed", "x", "--seed")]
    public void TrainRejectsABadValueAndWritesNothing(string option, string value, string named)
    {
        var parent = trained.NewFolder();
        var outDir = Path.Combine(parent, "m");
        var result = Fails(With(["train", "--out", outDir, .. TinyTraining], option, value));
        Assert.Contains(named, result.Stderr);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(parent, "*", SearchOption.AllDirectories), File.Exists);
    }

    [Theory]
    [InlineData("--sampler", "euler_x", "'euler_x'")]
    [InlineData("--steps", "abc", "--steps")]
    [InlineData("--steps", "0", "--steps")]
    [InlineData("--steps", "51", "51")]
    [InlineData("--n", "0", "--n")]
    [InlineData("--seed", "1e3", "--seed")]
    [InlineData("--weights", "best", "--weights")]
    [InlineData("--noise", "pink", "--noise")]
    [InlineData("--noise", "brownian", "noise_sampler")]
    public void SampleRejectsABadValue(string option, string value, string named)
    {
        var outFile = OutCsv();
        var result = Fails(With(["sample", "--model", trained.Model, "--out", outFile, "--n", "10", "--steps", "5"], option, value));
        Assert.Contains(named, result.Stderr);
        Assert.False(File.Exists(outFile));
    }

    [Theory]
    [InlineData("ddpm")]
    [InlineData("ddim")]
    public void KarrasSigmasAreRefusedForDiscreteSamplers(string sampler)
    {
        var outFile = OutCsv();
        var result = Fails("sample", "--model", trained.Model, "--out", outFile, "--n", "10", "--steps", "5", "--sampler", sampler, "--karras");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--karras applies", result.Stderr);
        Assert.False(File.Exists(outFile));
    }

    [Fact]
    public void AnOutputFolderThatDoesNotExistIsRefusedBeforeSampling()
    {
        var outFile = Path.Combine(trained.NewFolder(), "missing", "out.csv");
        var result = Fails("sample", "--model", trained.Model, "--out", outFile, "--n", "10", "--steps", "5");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("does not exist", result.Stderr);
        Assert.DoesNotContain(".tmp", result.Stderr);
    }

    [Fact]
    public void StepsBeyondTheModelsTimestepsAreRefused()
    {
        var result = SampleFails(trained.Model, "--steps", "51");
        Assert.Contains("50", result.Stderr);
        Assert.Contains("timesteps", result.Stderr);
        Assert.Equal(0, Run("sample", "--model", trained.Model, "--out", OutCsv(), "--n", "10", "--steps", "50").ExitCode);
    }

    [Theory]
    [InlineData("ddim", "-0.5")]
    [InlineData("ddim", "x")]
    [InlineData("ddpm", "0.5")]
    [InlineData("ddpm", "0")]
    public void EtaMustBeANonNegativeNumberAndDdimOnly(string sampler, string eta)
    {
        var result = SampleFails(trained.Model, "--sampler", sampler, "--eta", eta);
        Assert.Contains("--eta", result.Stderr);
    }

    [Fact]
    public void MissingRequiredOptions()
    {
        Assert.Contains("--model", Fails("sample", "--out", OutCsv()).Stderr);
        Assert.Contains("--out", Fails("sample", "--model", trained.Model).Stderr);
        Assert.Contains("--out", Fails("train", "--data", "moons").Stderr);
        Assert.Contains("--model", Fails("eval").Stderr);
        Assert.Contains("--steps", Fails("train", "--out", Path.Combine(trained.NewFolder(), "m"), "--steps").Stderr);
    }

    [Fact]
    public void EmptyRequiredValues()
    {
        var parent = trained.NewFolder();
        Assert.Contains("--out", Fails("train", "--out=", "--steps", "1").Stderr);
        Assert.Contains("--out", Fails("train", "--out", "", "--steps", "1").Stderr);
        Assert.Contains("--model", Fails("sample", "--model=", "--out", Path.Combine(parent, "x.csv")).Stderr);
        Assert.Contains("--model", Fails("eval", "--model", "").Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }

    [Fact]
    public void AMissingModelFolder()
    {
        var missing = Path.Combine(trained.NewFolder(), "nope");
        Assert.Contains("does not exist", SampleFails(missing).Stderr);
        Assert.Contains("does not exist", Fails("eval", "--model", missing).Stderr);
    }

    [Fact]
    public void AFolderWithoutConfigJson()
    {
        var model = trained.CopyModel();
        File.Delete(Path.Combine(model, "config.json"));
        Assert.Contains("config.json", SampleFails(model).Stderr);
    }

    [Theory]
    [InlineData("ema.safetensors", "ema")]
    [InlineData("model.safetensors", "model")]
    public void ATruncatedWeightsFile(string file, string weights)
    {
        var model = trained.CopyModel();
        var path = Path.Combine(model, file);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        Assert.Contains(file, SampleFails(model, "--weights", weights).Stderr);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains(file, SampleFails(model, "--weights", weights).Stderr);
    }

    [Fact]
    public void TheOtherWeightsFileStillLoadsWhenOneIsTruncated()
    {
        var model = trained.CopyModel();
        var path = Path.Combine(model, "model.safetensors");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..64]);
        Assert.Equal(0, Run("sample", "--model", model, "--out", OutCsv(), "--n", "10", "--steps", "5").ExitCode);
    }

    [Theory]
    [InlineData(8, "[")]
    [InlineData(9, "\"dtype\": oops")]
    [InlineData(0, "\xff\xff\xff\xff")]
    public void ACorruptedHeader(int offset, string garbage)
    {
        var model = trained.CopyModel();
        var path = Path.Combine(model, "ema.safetensors");
        var bytes = File.ReadAllBytes(path);
        Encoding.Latin1.GetBytes(garbage).CopyTo(bytes, offset);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("ema.safetensors", SampleFails(model).Stderr);
    }

    static void EditConfig(string model, Action<JsonObject> edit)
    {
        var path = Path.Combine(model, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void AConfigThatDoesNotMatchTheWeights()
    {
        var model = trained.CopyModel();
        EditConfig(model, c => c["network"]!["hidden_dim"] = 24);
        var result = SampleFails(model);
        Assert.Contains("does not match", result.Stderr);
        Assert.Contains("[24", result.Stderr);
    }

    [Fact]
    public void AMalformedConfig()
    {
        var model = trained.CopyModel();
        var path = Path.Combine(model, "config.json");
        File.WriteAllText(path, File.ReadAllText(path)[..40]);
        Assert.Contains("config.json", SampleFails(model).Stderr);
        File.WriteAllText(path, "null");
        Assert.Contains("config.json", SampleFails(model).Stderr);
        File.WriteAllText(path, "");
        Assert.Contains("config.json", SampleFails(model).Stderr);
    }

    [Theory]
    [InlineData("", "colour")]
    [InlineData("network", "depth")]
    [InlineData("scheduler", "karras")]
    [InlineData("data", "labels")]
    [InlineData("training", "momentum")]
    public void AnUnknownConfigKey(string section, string key)
    {
        var model = trained.CopyModel();
        EditConfig(model, c => (section == "" ? c : c[section]!.AsObject())[key] = 1);
        var result = SampleFails(model);
        Assert.Contains(key, result.Stderr);
        Assert.Contains("config.json", result.Stderr);
    }

    [Theory]
    [InlineData("network", "hidden_dim", "0")]
    [InlineData("network", "type", "\"unet\"")]
    [InlineData("network", "type", "\"transformer9\"")]
    [InlineData("data", "scale", "-1")]
    [InlineData("data", "dim", "3")]
    [InlineData("scheduler", "beta_schedule", "\"zigzag\"")]
    [InlineData("scheduler", "num_train_timesteps", "\"many\"")]
    public void ABadConfigValue(string section, string key, string value)
    {
        var model = trained.CopyModel();
        EditConfig(model, c => c[section]![key] = JsonNode.Parse(value));
        Assert.Contains("config.json", SampleFails(model).Stderr);
    }

    [Fact]
    public void TrainRefusesAFolderHoldingAModelUnlessForced()
    {
        var model = trained.CopyModel();
        var before = Directory.GetFiles(model).ToDictionary(f => f, File.ReadAllBytes);

        var result = Fails(["train", "--data", "moons", "--out", model, "--seed", "1", .. TinyTraining]);

        Assert.Contains("--force", result.Stderr);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(model).Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(file));

        Train(model, 1, "--force");
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(model).Order());
        Assert.NotEqual(before[Path.Combine(model, "model.safetensors")], File.ReadAllBytes(Path.Combine(model, "model.safetensors")));
        Assert.Equal(0, Run("sample", "--model", model, "--out", OutCsv(), "--n", "10", "--steps", "5").ExitCode);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(model)!, ".*"));
    }

    [Fact]
    public void SampleRefusesAnExistingOutputUnlessForced()
    {
        var outFile = OutCsv();
        File.WriteAllText(outFile, "keep me");

        var result = Fails("sample", "--model", trained.Model, "--out", outFile, "--n", "10", "--steps", "5");

        Assert.Contains("--force", result.Stderr);
        Assert.Equal("keep me", File.ReadAllText(outFile));
        RunOk("sample", "--model", trained.Model, "--out", outFile, "--n", "10", "--steps", "5", "--force");
        Assert.StartsWith("x,y", File.ReadAllText(outFile));
    }

    [Fact]
    public void SampleRefusesAnOutputThatIsNeitherPngNorCsv()
    {
        var outFile = Path.Combine(trained.NewFolder(), "out.txt");
        Assert.Contains("--out", Fails("sample", "--model", trained.Model, "--out", outFile).Stderr);
        Assert.False(File.Exists(outFile));
    }
}
