using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

[Collection(CliCollection.Name)]
public class EndToEndTests(TrainedModel trained)
{
    string[] Sample(string outFile, long seed, params string[] extra) =>
        ["sample", "--model", trained.Model, "--out", outFile, "--n", "200", "--steps", "10", "--seed", seed.ToString(), .. extra];

    [Fact]
    public void TrainingWritesAModelFolder()
    {
        Assert.Equal(["config.json", "ema.safetensors", "model.safetensors"],
            Directory.GetFileSystemEntries(trained.Model).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetDirectories(trained.Root, ".*staging*"));
    }

    [Fact]
    public void SamplingWithTheSameSeedIsBitIdenticalAndAnotherSeedDiffers()
    {
        var dir = trained.NewFolder();
        string a = Path.Combine(dir, "a.csv"), b = Path.Combine(dir, "b.csv"), c = Path.Combine(dir, "c.csv");

        var first = RunOk(Sample(a, 3));
        RunOk(Sample(b, 3));
        RunOk(Sample(c, 4));

        Assert.Contains("200", first.Stdout);
        var lines = File.ReadAllLines(a);
        Assert.Equal("x,y", lines[0]);
        Assert.Equal(201, lines.Length);
        Assert.All(lines.Skip(1), line =>
        {
            var parts = line.Split(',');
            Assert.Equal(2, parts.Length);
            Assert.All(parts, p => Assert.True(double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v), p));
        });
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
    }

    [Fact]
    public void DdimAtEtaZeroIsDeterministicAndDiffersFromDdpm()
    {
        var dir = trained.NewFolder();
        string a = Path.Combine(dir, "a.csv"), b = Path.Combine(dir, "b.csv"), ddpm = Path.Combine(dir, "ddpm.csv");

        RunOk(Sample(a, 5, "--sampler", "ddim", "--eta", "0"));
        RunOk(Sample(b, 5, "--sampler", "ddim"));
        RunOk(Sample(ddpm, 5));

        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(ddpm));
    }

    [Fact]
    public void SamplingToPngWritesAValidPng()
    {
        var png = Path.Combine(trained.NewFolder(), "plot.png");

        RunOk(Sample(png, 1));

        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 1000, $"{bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
    }

    [Fact]
    public void EvalPrintsTheModelTheFloorAndTheBaseline()
    {
        var result = RunOk("eval", "--model", trained.Model, "--n", "1000", "--projections", "64", "--steps", "10");

        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        double Score(string label)
        {
            var line = Assert.Single(lines, l => l.StartsWith(label, StringComparison.Ordinal) && l.Contains("SWD"));
            var match = Regex.Match(line, $@"^{label}\s+SWD (\d+\.\d+)");
            Assert.True(match.Success, line);
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        double samples = Score("samples"), floor = Score("data floor"), baseline = Score("gaussian baseline");
        Assert.True(samples > 0 && floor > 0 && baseline > 0, result.Stdout);
        // Two draws of the data are closer than a Gaussian fitted to it.
        Assert.True(floor < baseline, result.Stdout);
    }

    [Fact]
    public void SamplersListsDdpmAndDdim()
    {
        var result = RunOk("samplers");
        var names = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToArray();
        Assert.Contains("ddpm", names);
        Assert.Contains("ddim", names);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void TrainingTwiceWithTheSameSeedGivesBitIdenticalWeights()
    {
        var again = Path.Combine(trained.NewFolder(), "model");
        Train(again, seed: 7);

        foreach (var file in new[] { "model.safetensors", "ema.safetensors", "config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(trained.Model, file)), File.ReadAllBytes(Path.Combine(again, file)));
    }

    [Fact]
    public void HelpExitsZeroAndNoArgumentsIsUsage()
    {
        Assert.Contains("train", RunOk("--help").Stdout);
        Assert.Contains("--timesteps", RunOk("train", "--help").Stdout);
        var none = Run();
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("Usage:", none.Stdout);
        Assert.Equal("error: no command given; the commands are listed above ('diffuse <command> --help' shows one's options)", Assert.Single(none.StderrLines));
    }
}
