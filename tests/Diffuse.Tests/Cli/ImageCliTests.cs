using Diffuse.IO;
using Diffuse.Tests.Data;
using Diffuse.Training;
using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>A tiny image model trained once (3 steps of the tiny preset on a synthetic IDX folder) for the image CLI tests.</summary>
public sealed class TrainedImageModel : CliFixture
{
    public TrainedImageModel() : base("diffuse-image-cli-tests")
    {
        Directory.CreateDirectory(Data);
        SyntheticImages.WriteIdxPair(Data, "train", 40, 28, 28, 4);
        RunOk(["train", "--data", Data, "--out", Model, .. ImageCliTests.TinyImageTraining]);
    }

    public string Data => Path.Combine(Root, "idx");
    public string Model => Path.Combine(Root, "model");
}

[CollectionDefinition(Name)]
public sealed class ImageCliCollection : ICollectionFixture<TrainedImageModel>
{
    public const string Name = "image-cli";
}

[Collection(ImageCliCollection.Name)]
public class ImageCliTests(TrainedImageModel trained)
{
    public static readonly string[] TinyImageTraining =
        ["--preset", "tiny", "--steps", "3", "--batch-size", "4", "--timesteps", "20", "--validate-every", "0", "--sample-every", "0", "--checkpoint-every", "0"];

    [Fact]
    public void TrainingWritesTheRunFolder()
    {
        var config = File.ReadAllText(Path.Combine(trained.Model, ModelDirectory.ConfigFile));
        Assert.Contains("\"unet\"", config);
        Assert.DoesNotContain("\"model\"", config);
        Assert.True(File.Exists(Path.Combine(trained.Model, ModelDirectory.EmaFile)));
        Assert.Equal(3, TrainCheckpoint.StepOf(ImageTraining.CheckpointPath(trained.Model)));
    }

    [Fact]
    public void SampleWritesAGridAndOnePngPerImage()
    {
        var folder = trained.NewFolder();
        var grid = Path.Combine(folder, "grid.png");
        var result = RunOk("sample", "--model", trained.Model, "--n", "6", "--steps", "3", "--out", grid);
        Assert.Contains("wrote a grid of 6 images", result.Stdout);
        using (var bitmap = SKBitmap.Decode(grid))
        {
            Assert.NotNull(bitmap);
            Assert.True(bitmap.Width > 28 * 2);
        }

        var each = Path.Combine(folder, "each");
        RunOk("sample", "--model", trained.Model, "--n", "3", "--steps", "3", "--out-dir", each, "--precision", "fp32", "--batch-size", "2");
        var files = Directory.GetFiles(each, "*.png").Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["000000.png", "000001.png", "000002.png"], files);
        using var one = SKBitmap.Decode(Path.Combine(each, "000000.png"));
        Assert.Equal(28, one.Width);
        Assert.Equal(28, one.Height);
    }

    [Fact]
    public void SamplingIsReproducibleBySeedAndBatchSizeDoesNotChangeTheFirstBatch()
    {
        var folder = trained.NewFolder();
        string a = Path.Combine(folder, "a.png"), b = Path.Combine(folder, "b.png"), c = Path.Combine(folder, "c.png");
        RunOk("sample", "--model", trained.Model, "--n", "4", "--steps", "3", "--out", a, "--seed", "5", "--precision", "fp32");
        RunOk("sample", "--model", trained.Model, "--n", "4", "--steps", "3", "--out", b, "--seed", "5", "--precision", "fp32");
        RunOk("sample", "--model", trained.Model, "--n", "4", "--steps", "3", "--out", c, "--seed", "6", "--precision", "fp32");
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
    }

    [Fact]
    public void EvalPrintsTheNamedQualityScores()
    {
        var cache = trained.NewFolder();
        var result = RunOk("eval", "--model", trained.Model, "--data", trained.Data, "--n", "10", "--steps", "2", "--cache-dir", cache);
        Assert.Contains("Fréchet Classifier Distance", result.Stdout);
        Assert.Contains("not Inception FID", result.Stdout);
        Assert.Contains("real vs real floor", result.Stdout);
        Assert.Contains("mean confidence", result.Stdout);
        Assert.Contains("class entropy", result.Stdout);
        Assert.Contains("max ln 4", result.Stdout);
        Assert.Contains("classifier accuracy", result.Stdout);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(cache, "classifiers"), "*.safetensors"));
    }

    [Fact]
    public void ResumeContinuesAndRefusesChangedSettings()
    {
        var folder = trained.NewFolder();
        var run = Path.Combine(folder, "run");
        var first = RunOk(["train", "--data", trained.Data, "--out", run, .. TinyImageTraining, "--stop-at", "1"]);
        Assert.Contains("stopped at step 1", first.Stdout);
        Fails(2, "train", "--resume", "--out", run, "--lr", "0.1");
        var second = RunOk("train", "--resume", "--out", run);
        Assert.Contains("from step 1 to 3 of 3", second.Stdout);
        Assert.Equal(3, TrainCheckpoint.StepOf(ImageTraining.CheckpointPath(run)));
    }

    [Fact]
    public void ACorruptCheckpointIsAOneLineErrorAndIsNotReplaced()
    {
        var folder = trained.NewFolder();
        var run = Path.Combine(folder, "run");
        RunOk(["train", "--data", trained.Data, "--out", run, .. TinyImageTraining, "--stop-at", "1"]);
        var checkpoint = ImageTraining.CheckpointPath(run);
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length - 100)]);
        var damaged = File.ReadAllBytes(checkpoint);
        Fails(1, "train", "--resume", "--out", run);
        Assert.Equal(damaged, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void BadImageInputIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var outDir = Path.Combine(folder, "out");
        Fails(2, "train", "--data", Path.Combine(folder, "no-such-folder"), "--out", outDir);
        var empty = Path.Combine(folder, "empty");
        Directory.CreateDirectory(empty);
        Fails(1, ["train", "--data", empty, "--out", outDir, .. TinyImageTraining]);
        Fails(2, "train", "--data", trained.Data, "--out", outDir, "--channels", "2");
        Fails(2, "train", "--data", trained.Data, "--out", outDir, "--hidden", "8");
        Fails(2, "train", "--data", "moons", "--out", outDir, "--flip");
        // An unknown preset is refused while the command line is parsed (exit 2; it was 1 when the U-Net's config caught it).
        Fails(2, "train", "--data", trained.Data, "--out", outDir, "--preset", "huge");
        Fails(1, "train", "--resume", "--out", Path.Combine(folder, "missing"));
        Assert.False(File.Exists(Path.Combine(outDir, ModelDirectory.ConfigFile)));

        var grid = Path.Combine(folder, "g.png");
        Fails(2, "sample", "--model", trained.Model, "--out", grid, "--out-dir", folder);
        Fails(2, "sample", "--model", trained.Model, "--out-dir", folder); // not empty
        Fails(2, "sample", "--model", trained.Model, "--out", grid, "--precision", "fp16");
        Fails(2, "eval", "--model", trained.Model, "--projections", "8");
        Assert.False(File.Exists(grid));
    }

    [Fact]
    public void ImagesSampleWithDpmSolverSdeOnKarrasSigmasUnlessToldOtherwise()
    {
        var folder = trained.NewFolder();
        string Grid(string name) => Path.Combine(folder, name + ".png");
        var byDefault = RunOk("sample", "--model", trained.Model, "--n", "2", "--out", Grid("default"));
        Assert.Contains("(dpmpp_2m_sde (Karras sigmas), 20 steps, bf16)", byDefault.Stdout);
        // The tiny model's 20 timesteps take 5 steps without Karras sigmas (linspace spacing would repeat timesteps at 20).
        RunOk("sample", "--model", trained.Model, "--n", "2", "--out", Grid("five"), "--steps", "5");
        var spelledOut = RunOk("sample", "--model", trained.Model, "--n", "2", "--out", Grid("spelled"), "--steps", "5", "--sampler", "dpmpp_2m_sde", "--karras");
        Assert.Contains("(dpmpp_2m_sde (Karras sigmas), 5 steps, bf16)", spelledOut.Stdout);
        Assert.Equal(File.ReadAllBytes(Grid("five")), File.ReadAllBytes(Grid("spelled")));
        var off = RunOk("sample", "--model", trained.Model, "--n", "2", "--out", Grid("off"), "--steps", "5", "--karras", "false");
        Assert.Contains("(dpmpp_2m_sde, 5 steps, bf16)", off.Stdout);
        Assert.NotEqual(File.ReadAllBytes(Grid("five")), File.ReadAllBytes(Grid("off")));
        // Another sampler keeps its own defaults: DDIM at 50 steps (at most the model's timesteps) on the timestep grid.
        Assert.Contains("(ddim, ", RunOk("sample", "--model", trained.Model, "--n", "2", "--out", Grid("ddim"), "--sampler", "ddim").Stdout);
        Fails(2, "sample", "--model", trained.Model, "--n", "2", "--out", Grid("bad"), "--sampler", "ddim", "--karras", "false");
    }

    [Fact]
    public void ALearnedVarianceModelTrainsSamplesWithEverySamplerAndScoresItsElbo()
    {
        var folder = trained.NewFolder();
        var run = Path.Combine(folder, "learned");
        RunOk(["train", "--data", trained.Data, "--out", run, .. TinyImageTraining, "--variance", "learned_range", "--vlb-weight", "0.002",
               "--timesteps-sampler", "loss-aware"]);
        var config = File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile));
        Assert.Contains("\"variance_type\": \"learned_range\"", config);
        Assert.Contains("\"loss\": \"hybrid\"", config);
        Assert.Contains("\"vlb_weight\": 0.002", config);
        Assert.Contains("\"timestep_sampler\": \"loss_aware\"", config);
        Assert.Contains("\"out_channels\": 2", config);
        foreach (var sampler in new[] { "ddpm", "ddim", "dpmpp_2m", "euler" })
        {
            var grid = Path.Combine(folder, $"{sampler}.png");
            RunOk("sample", "--model", run, "--n", "2", "--steps", "3", "--sampler", sampler, "--out", grid, "--precision", "fp32");
            Assert.True(File.Exists(grid), sampler);
        }
        var nll = RunOk("eval", "nll", "--model", run, "--elbo-only", "--nll-images", "2");
        Assert.Contains("  ELBO  ", nll.Stdout);
        Assert.DoesNotContain("NaN", nll.Stdout);
        var resumed = Path.Combine(folder, "resumed");
        RunOk(["train", "--data", trained.Data, "--out", resumed, .. TinyImageTraining, "--variance", "learned_range", "--stop-at", "2"]);
        Assert.Contains("from step 2 to 3 of 3", RunOk("train", "--resume", "--out", resumed).Stdout);
    }

    [Theory]
    [InlineData("--loss", "min_snr")]
    [InlineData("--loss", "simple")]
    public void LearnedVariancesRefuseAnotherLoss(string option, string value)
    {
        var outDir = Path.Combine(trained.NewFolder(), "out");
        var result = Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. TinyImageTraining, "--variance", "learned_range", option, value]);
        Assert.Contains("hybrid", result.Stderr);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void TheHybridLossOptionsNeedLearnedVariancesOnImages()
    {
        var outDir = Path.Combine(trained.NewFolder(), "out");
        Assert.Contains("learned_range", Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. TinyImageTraining, "--loss", "hybrid"]).Stderr);
        Assert.Contains("--vlb-weight", Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. TinyImageTraining, "--vlb-weight", "0.01"]).Stderr);
        Assert.Contains("--variance", Fails(2, "train", "--data", trained.Data, "--out", outDir, "--variance", "learned").Stderr);
        Assert.Contains("--vlb-weight", Fails(2, ["train", "--data", trained.Data, "--out", outDir, "--variance", "learned_range", "--vlb-weight", "-1"]).Stderr);
        Assert.Contains("--timesteps-sampler", Fails(2, "train", "--data", trained.Data, "--out", outDir, "--timesteps-sampler", "importance").Stderr);
        Assert.Contains("images", Fails(2, "train", "--data", "moons", "--out", outDir, "--variance", "learned_range").Stderr);
        Assert.Contains("--variance", Fails(2, "train", "--resume", "--out", trained.Model, "--variance", "learned_range").Stderr);
        Assert.False(Directory.Exists(outDir));
    }

    static double Number(System.Text.RegularExpressions.Match m, int group) =>
        double.Parse(m.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void EvalNllPrintsTheBoundWithItsPartsAndTheOdeWithItsNfe()
    {
        var result = RunOk("eval", "nll", "--model", trained.Model, "--rtol", "1e-3", "--atol", "1e-3");
        Assert.Contains("NLL of 2 held-out images", result.Stdout);
        var elbo = System.Text.RegularExpressions.Regex.Match(result.Stdout,
            @"^  ELBO  (\S+) ± (\S+) bits/dim  = prior (\S+) \+ KL sum (\S+) \+ decoder (\S+)  \(", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(elbo.Success, result.Stdout);
        double total = Number(elbo, 1), sum = Number(elbo, 3) + Number(elbo, 4) + Number(elbo, 5);
        Assert.True(double.IsFinite(total) && total >= 0, result.Stdout);
        Assert.True(double.IsFinite(Number(elbo, 2)) && Number(elbo, 2) >= 0, result.Stdout);
        Assert.True(Math.Abs(total - sum) <= 3e-4, $"the parts sum to {sum}, the total is {total}");
        var ode = System.Text.RegularExpressions.Regex.Match(result.Stdout,
            @"^  ODE   (\S+) ± (\S+) bits/dim  NFE (\S+)  \(", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(ode.Success, result.Stdout);
        Assert.True(double.IsFinite(Number(ode, 1)) && double.IsFinite(Number(ode, 2)), result.Stdout);
        Assert.True(Number(ode, 3) >= 6, result.Stdout);
        Assert.Contains("rademacher Hutchinson, 1 probe, rtol 0.001, atol 0.001", result.Stdout);
    }

    [Fact]
    public void EvalNllRunsOneEstimateWhenAsked()
    {
        var elboOnly = RunOk("eval", "nll", "--model", trained.Model, "--elbo-only", "--nll-images", "1");
        Assert.Contains("  ELBO  ", elboOnly.Stdout);
        Assert.DoesNotContain("  ODE   ", elboOnly.Stdout);
        Assert.Contains("NLL of 1 held-out images", elboOnly.Stdout);
        var odeOnly = RunOk("eval", "nll", "--model", trained.Model, "--ode-only", "--rtol", "1e-2", "--atol", "1e-2", "--estimator", "gaussian", "--probes", "2");
        Assert.DoesNotContain("  ELBO  ", odeOnly.Stdout);
        Assert.Contains("gaussian Hutchinson, 2 probes", odeOnly.Stdout);
    }

    [Theory]
    [InlineData("--rtol", "0")]
    [InlineData("--rtol", "-1e-5")]
    [InlineData("--atol", "abc")]
    [InlineData("--atol", "NaN")]
    [InlineData("--probes", "0")]
    [InlineData("--estimator", "skilling")]
    [InlineData("--precision", "bf16")]
    [InlineData("--nll-images", "0")]
    [InlineData("--elbo-only", "--ode-only")]
    [InlineData("--sampler", "ddim")]
    public void EvalNllRefusesBadInputInOneLine(string option, string value)
    {
        var argv = new List<string> { "eval", "nll", "--model", trained.Model, option };
        if (!value.StartsWith("--", StringComparison.Ordinal) || option == "--elbo-only") argv.Add(value);
        Fails(2, [.. argv]);
    }

    [Fact]
    public void NllOptionsNeedNll()
    {
        // The likelihood options belong to eval nll: eval (quality) does not know them ("Unrecognized command or argument '--probes'.").
        Assert.Contains("'--probes'", Fails(2, "eval", "--model", trained.Model, "--probes", "2").Stderr);
        // The tolerances also set the ode sampler's solver, so without --nll they belong to it.
        Assert.Contains("--rtol applies to the score samplers", Fails(2, "eval", "--model", trained.Model, "--rtol", "1e-3").Stderr);
    }
}
