using System.Text.Json;
using Diffuse.IO;
using Diffuse.Tests.Data;
using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>Class-conditional training, sampling with --class and --guidance, and evaluation, through the CLI entry (a 4-class synthetic IDX set).</summary>
[Collection(ImageCliCollection.Name)]
public class ConditionalCliTests(TrainedImageModel trained)
{
    static readonly string[] Conditional = [.. ImageCliTests.TinyImageTraining, "--cond", "class", "--cond-drop", "0.25"];

    /// <summary>Trains the tiny conditional model; <paramref name="overrides"/> (option, value pairs) replace the defaults.</summary>
    string TrainConditional(string folder, params string[] overrides)
    {
        var run = Path.Combine(folder, "cond");
        var args = WithOverrides(Conditional, overrides);
        RunOk(["train", "--data", trained.Data, "--out", run, .. args]);
        return run;
    }

    [Fact]
    public void AConditionalModelTrainsSavesLoadsAndSamplesAClass()
    {
        var folder = trained.NewFolder();
        var run = TrainConditional(folder, "--validate-every", "1", "--sample-every", "3");
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile))))
        {
            var root = config.RootElement;
            Assert.Equal(4, root.GetProperty("network").GetProperty("num_classes").GetInt32());
            Assert.Equal(0.25, root.GetProperty("training").GetProperty("cond_drop").GetDouble());
            Assert.Equal(["0", "1", "2", "3"], root.GetProperty("data").GetProperty("image").GetProperty("class_names").EnumerateArray().Select(e => e.GetString()));
        }
        // The training grid has one row per class: 64 images round up to 4 rows of 16.
        using (var grid = SKBitmap.Decode(Directory.GetFiles(Path.Combine(run, "samples"), "*.png").Single()))
            Assert.Equal(4 * 28 + 5 * 2, grid.Height);

        var sevens = Path.Combine(folder, "class2.png");
        var result = RunOk("sample", "--model", run, "--n", "3", "--steps", "3", "--class", "2", "--guidance", "3", "--guidance-rescale", "0.5", "--out", sevens);
        Assert.Contains("class 2 '2', guidance 3, rescale 0.5", result.Stdout);
        Assert.True(File.Exists(sevens));

        var rows = Path.Combine(folder, "rows.png");
        result = RunOk("sample", "--model", run, "--n", "6", "--steps", "3", "--out", rows);
        Assert.Contains("wrote a grid of 8 images", result.Stdout);
        Assert.Contains("one row per class (2 each)", result.Stdout);
        using (var bitmap = SKBitmap.Decode(rows))
        {
            Assert.Equal(4 * 28 + 5 * 2, bitmap.Height);
            Assert.Equal(2 * 28 + 3 * 2, bitmap.Width);
        }

        foreach (var sampler in new[] { "ddpm", "dpmpp_2m_sde", "euler_ancestral", "unipc" })
            RunOk("sample", "--model", run, "--n", "2", "--steps", "3", "--sampler", sampler, "--class", "1", "--guidance", "2", "--out", Path.Combine(folder, $"{sampler}.png"));
    }

    [Fact]
    public void GuidedSamplingIsReproducibleAndTheScaleMatters()
    {
        var folder = trained.NewFolder();
        var run = TrainConditional(folder);
        string Draw(string name, string guidance)
        {
            var path = Path.Combine(folder, name);
            RunOk("sample", "--model", run, "--n", "4", "--steps", "3", "--class", "1", "--guidance", guidance, "--seed", "3", "--precision", "fp32", "--out", path);
            return path;
        }
        Assert.Equal(File.ReadAllBytes(Draw("a.png", "3")), File.ReadAllBytes(Draw("b.png", "3")));
        // Three training steps move the class embedding only a little: compare the tensors, not 8-bit PNGs.
        using var model = Diffuse.Pipelines.ImageModel.Load(run);
        var scheduler = Diffuse.Sampling.Schedulers.Create("ddim", model.Config.Scheduler);
        TorchSharp.torch.Tensor Sample(double scale)
        {
            using var g = new TorchSharp.torch.Generator(3);
            return model.Sample(2, scheduler, 3, g, Diffuse.Guidance.Conditioning.Single(2, 1, scale));
        }
        using var w3 = Sample(3);
        using var w3Again = Sample(3);
        using var w0 = Sample(0);
        Assert.True(w3.eq(w3Again).all().item<bool>());
        Assert.False(w3.eq(w0).all().item<bool>());
    }

    [Fact]
    public void ResumingAConditionalRunIsExact()
    {
        var folder = trained.NewFolder();
        var straight = TrainConditional(folder);
        var resumed = Path.Combine(folder, "resumed");
        RunOk(["train", "--data", trained.Data, "--out", resumed, .. Conditional, "--stop-at", "1"]);
        RunOk("train", "--resume", "--out", resumed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, ModelDirectory.ModelFile)), File.ReadAllBytes(Path.Combine(resumed, ModelDirectory.ModelFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, ModelDirectory.EmaFile)), File.ReadAllBytes(Path.Combine(resumed, ModelDirectory.EmaFile)));
    }

    [Fact]
    public void EvalReportsTheLabelAccuracyOfGuidedSamples()
    {
        var folder = trained.NewFolder();
        var run = TrainConditional(folder);
        var result = RunOk("eval", "--model", run, "--data", trained.Data, "--n", "8", "--steps", "2", "--guidance", "2", "--cache-dir", folder);
        Assert.Contains("label accuracy", result.Stdout);
        Assert.Contains("guidance 2", result.Stdout);
        Assert.DoesNotContain("label accuracy", RunOk("eval", "--model", trained.Model, "--data", trained.Data, "--n", "4", "--steps", "2", "--cache-dir", folder).Stdout);
    }

    [Fact]
    public void BadConditioningInputIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var run = TrainConditional(folder);
        var grid = Path.Combine(folder, "g.png");
        Assert.Contains("outside the model's labels 0..3", Fails(1, "sample", "--model", run, "--class", "7", "--out", grid).Stderr);
        Assert.Contains("unknown class 'seven'; the model's classes are: 0, 1, 2, 3", Fails(1, "sample", "--model", run, "--class", "seven", "--out", grid).Stderr);
        Fails(2, "sample", "--model", run, "--guidance", "-1", "--out", grid);
        Fails(2, "sample", "--model", run, "--guidance-rescale", "2", "--out", grid);
        Assert.Contains("--class needs a class-conditional model", Fails(2, "sample", "--model", trained.Model, "--class", "1", "--out", grid).Stderr);
        Assert.Contains("--guidance needs a class-conditional model", Fails(2, "sample", "--model", trained.Model, "--guidance", "3", "--out", grid).Stderr);
        Fails(2, "eval", "--model", trained.Model, "--guidance", "3", "--n", "4");
        Assert.False(File.Exists(grid));

        var outDir = Path.Combine(folder, "out");
        Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. ImageCliTests.TinyImageTraining, "--cond-drop", "0.1"]);
        Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. ImageCliTests.TinyImageTraining, "--cond", "words"]);
        Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. ImageCliTests.TinyImageTraining, "--cond", "class", "--cond-drop", "1.5"]);
        Fails(2, "train", "--resume", "--out", run, "--cond-drop", "0.5");
        var unlabelled = Path.Combine(folder, "flat");
        Directory.CreateDirectory(unlabelled);
        for (int i = 0; i < 4; i++) SyntheticImages.WriteSolid(Path.Combine(unlabelled, $"{i}.png"), 28, 28, new SKColor((byte)(i * 60), 0, 0));
        Assert.Contains("has no class labels", Fails(1, ["train", "--data", unlabelled, "--out", outDir, .. Conditional]).Stderr);
        Assert.False(File.Exists(Path.Combine(outDir, ModelDirectory.ConfigFile)));
    }
}
