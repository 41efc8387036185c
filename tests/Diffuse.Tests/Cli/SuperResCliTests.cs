using System.Text.Json;
using Diffuse.Tests.Data;
using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>Tiny models for the super-resolution CLI tests: a 14x14 base, two x2 super-resolution models of 28x28, a 28x28 generator.</summary>
public sealed class TrainedSuperResModels : CliFixture
{
    static readonly string[] Tiny = ImageCliTests.TinyImageTraining;

    public TrainedSuperResModels() : base("diffuse-superres-cli-tests")
    {
        Directory.CreateDirectory(Data);
        SyntheticImages.WriteIdxPair(Data, "train", 40, 28, 28, 4);
        RunOk(["train", "--data", Data, "--out", Base, "--image-size", "14", "--channel-mult", "1,2", .. Tiny]);
        RunOk(["train", "--data", Data, "--out", SuperRes, "--task", "superres", "--scale", "2", "--cond-noise-max", "5", .. Tiny]);
        RunOk(["train", "--data", Data, "--out", PlainSuperRes, "--task", "superres", .. Tiny]);
        RunOk(["train", "--data", Data, "--out", Full, .. Tiny]);
    }

    public string Data => Path.Combine(Root, "idx");
    public string Base => Path.Combine(Root, "base14");
    public string SuperRes => Path.Combine(Root, "sr28");
    public string PlainSuperRes => Path.Combine(Root, "sr28-plain");
    public string Full => Path.Combine(Root, "full28");
}

[CollectionDefinition(Name)]
public sealed class SuperResCliCollection : ICollectionFixture<TrainedSuperResModels>
{
    public const string Name = "superres-cli";
}

/// <summary>train --task superres, upscale, sample / eval --cascade and eval --superres through the CLI.</summary>
[Collection(SuperResCliCollection.Name)]
public class SuperResCliTests(TrainedSuperResModels models)
{
    static string WritePng(string path, int w, int h, Func<int, int, SKColor> pixel) => EditCliTests.WritePng(path, w, h, pixel);

    static SKColor Gray(int v) => EditCliTests.Gray(v);

    static (int Width, int Height) SizeOf(string png)
    {
        using var bitmap = SKBitmap.Decode(png);
        return (bitmap.Width, bitmap.Height);
    }

    static void Fails(string fragment, params string[] argv)
    {
        var result = Run(argv);
        Assert.True(result.ExitCode != 0, $"diffuse {string.Join(' ', argv)} succeeded");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(fragment, line);
        Assert.DoesNotContain("Exception", result.Stderr);
    }

    string Small(string folder) => WritePng(Path.Combine(folder, "small.png"), 14, 14, (x, y) => Gray((x * 17 + y * 9) % 256));

    [Fact]
    public void TrainWritesAChannelConcatUNetAndTheSuperResSettings()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(models.SuperRes, "config.json")));
        var root = document.RootElement;
        Assert.Equal(2, root.GetProperty("super_res").GetProperty("scale").GetInt32());
        Assert.Equal(5, root.GetProperty("super_res").GetProperty("cond_noise_max").GetInt32());
        Assert.Equal(2, root.GetProperty("network").GetProperty("in_channels").GetInt32());
        Assert.Equal(1, root.GetProperty("network").GetProperty("out_channels").GetInt32());
        Assert.True(root.GetProperty("network").GetProperty("noise_level_embedding").GetBoolean());
        // A model that generates keeps the keys it always had.
        var plain = File.ReadAllText(Path.Combine(models.Full, "config.json"));
        Assert.DoesNotContain("super_res", plain);
        Assert.DoesNotContain("noise_level_embedding", plain);
        using var baseConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(models.Base, "config.json")));
        Assert.Equal(14, baseConfig.RootElement.GetProperty("network").GetProperty("image_size").GetInt32());
        Assert.Equal("[1,2]", baseConfig.RootElement.GetProperty("network").GetProperty("channel_mult").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
    }

    [Fact]
    public void ResumingASuperResRunIsExact()
    {
        var folder = models.NewFolder();
        string straight = Path.Combine(folder, "straight"), resumed = Path.Combine(folder, "resumed");
        string[] settings = ["--data", models.Data, "--task", "superres", "--cond-noise-max", "5", "--preset", "tiny", "--steps", "4", "--batch-size", "4",
            "--timesteps", "20", "--validate-every", "0", "--sample-every", "0", "--checkpoint-every", "0", "--seed", "3"];
        RunOk(["train", "--out", straight, .. settings]);
        RunOk(["train", "--out", resumed, .. settings, "--stop-at", "2"]);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")));
        RunOk("train", "--resume", "--out", resumed, "--data-dir", models.Data);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "ema.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "ema.safetensors")));
    }

    [Fact]
    public void UpscaleMakesTheModelsSizeAndIsSeeded()
    {
        var folder = models.NewFolder();
        var small = Small(folder);
        string Upscale(string name, string seed, params string[] extra)
        {
            var path = Path.Combine(folder, name);
            var result = RunOk(["upscale", "--model", models.SuperRes, "--image", small, "--out", path, "--steps", "4", "--seed", seed, "--precision", "fp32", .. extra]);
            Assert.Contains("14x14 to 28x28", result.Stdout);
            return path;
        }
        var first = Upscale("a.png", "1");
        Assert.Equal((28, 28), SizeOf(first));
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(Upscale("b.png", "1")));
        Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(Upscale("c.png", "2")));
        Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(Upscale("d.png", "1", "--cond-noise", "5")));
        Upscale("e.png", "1", "--sampler", "dpmpp_2m", "--n", "3");
    }

    [Fact]
    public void SampleCascadeDrawsFullSizeImagesReproducibly()
    {
        var folder = models.NewFolder();
        string Sample(string name, params string[] extra)
        {
            var path = Path.Combine(folder, name);
            var result = RunOk(["sample", "--cascade", $"{models.Base},{models.SuperRes}", "--n", "2", "--steps", "3", "--out", path, "--precision", "fp32", .. extra]);
            Assert.Contains("cascade 14x14 -> 28x28", result.Stdout);
            return path;
        }
        var grid = Sample("a.png");
        Assert.Equal(File.ReadAllBytes(grid), File.ReadAllBytes(Sample("b.png")));
        Assert.NotEqual(File.ReadAllBytes(grid), File.ReadAllBytes(Sample("c.png", "--cond-noise", "4")));
        var each = Path.Combine(folder, "each");
        RunOk("sample", "--cascade", $"{models.Base},{models.SuperRes}", "--n", "2", "--steps", "2", "--out-dir", each);
        Assert.Equal((28, 28), SizeOf(Path.Combine(each, "000001.png")));
    }

    [Fact]
    public void EvalSuperResReportsPsnrAndLabelAgreementBesideBicubic()
    {
        var cache = models.NewFolder();
        var result = RunOk("eval", "superres", "--model", models.SuperRes, "--n", "2", "--steps", "3", "--cache-dir", cache, "--data-dir", models.Data);
        Assert.Contains("super-resolution x2 (14x14 to 28x28) of 2 held-out images", result.Stdout);
        Assert.Matches(@"PSNR, dB\s+\d+\.\d\d\s+\d+\.\d\d", result.Stdout);
        Assert.Matches(@"label agreement\s+\d+\.\d+ ?%\s+\d+\.\d+ ?%", result.Stdout);
    }

    [Fact]
    public void EvalCascadeScoresTheCascadesSamples()
    {
        var cache = models.NewFolder();
        var result = RunOk("eval", "cascade", "--cascade", $"{models.Base},{models.SuperRes}", "--n", "4", "--steps", "2", "--cache-dir", cache);
        Assert.Matches(@"samples vs real\s+FCD\s+\d+\.\d+\s+\(4 samples, cascade 14x14 -> 28x28", result.Stdout);
    }

    [Fact]
    public void BadInputIsAOneLineErrorAndWritesNothing()
    {
        var folder = models.NewFolder();
        var small = Small(folder);
        var outFile = Path.Combine(folder, "out.png");
        var wrongSize = WritePng(Path.Combine(folder, "wrong.png"), 20, 20, (x, y) => Gray(9));
        var color = WritePng(Path.Combine(folder, "color.png"), 14, 14, (x, y) => new SKColor(200, 10, 10));
        string[] Upscale(string model, string image) => ["upscale", "--model", model, "--image", image, "--out", outFile, "--steps", "2"];
        Fails("is 1-channel 20x20, but the super-resolution model", Upscale(models.SuperRes, wrongSize));
        Fails("is 3-channel 14x14, but the super-resolution model", Upscale(models.SuperRes, color));
        Fails("is not a super-resolution model", Upscale(models.Base, small));
        Fails("without noise-conditioning augmentation", [.. Upscale(models.PlainSuperRes, small), "--cond-noise", "3"]);
        Fails("must lie in [0, 20]", [.. Upscale(models.SuperRes, small), "--cond-noise", "21"]);
        Fails("not the score sampler", [.. Upscale(models.SuperRes, small), "--sampler", "pc"]);
        string[] Cascade(string first, string second) => ["sample", "--cascade", $"{first},{second}", "--n", "1", "--steps", "2", "--out", outFile];
        Fails("must be a super-resolution model", Cascade(models.Base, models.Full));
        Fails("is a super-resolution model", Cascade(models.SuperRes, models.SuperRes));
        Fails("makes 28x28 images, x2 = 56x56", Cascade(models.Full, models.SuperRes));
        Fails("two model folders", "sample", "--cascade", models.Base, "--out", outFile);
        Fails("is a super-resolution model: use 'diffuse upscale", "sample", "--model", models.SuperRes, "--out", outFile);
        Fails("score it with 'diffuse eval superres'", "eval", "--model", models.SuperRes, "--n", "4");
        Fails("is not one", "eval", "superres", "--model", models.Full);
        Fails("score it with 'diffuse eval superres'", "eval", "inpaint", "--model", models.SuperRes, "--region", "lower");
        Fails("use 'diffuse upscale'", "img2img", "--model", models.SuperRes, "--image", small, "--out", outFile);
        Fails("--scale applies to super-resolution training", "train", "--data", models.Data, "--out", Path.Combine(folder, "x"), "--scale", "2");
        Fails("--cond does not apply to --task superres", "train", "--data", models.Data, "--out", Path.Combine(folder, "x"), "--task", "superres", "--cond", "class");
        Fails("--channel-mult takes comma-separated integers", "train", "--data", models.Data, "--out", Path.Combine(folder, "x"), "--channel-mult", "1,a");
        Assert.False(File.Exists(outFile));
        Assert.False(Directory.Exists(Path.Combine(folder, "x")));
    }
}
