using System.Text.Json;
using Diffuse.IO;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>Text-conditional training, sampling with --prompt, and evaluation with --prompts, through the CLI entry (a 4-class synthetic IDX set).</summary>
[Collection(ImageCliCollection.Name)]
public class TextCliTests(TrainedImageModel trained)
{
    static readonly string[] Text = [.. ImageCliTests.TinyImageTraining, "--cond", "text", "--cond-drop", "0.2"];

    /// <summary>Trains the tiny text model; <paramref name="overrides"/> (option, value pairs) replace the defaults.</summary>
    string TrainText(string folder, params string[] overrides)
    {
        var run = Path.Combine(folder, "text");
        var args = WithOverrides(Text, overrides);
        RunOk(["train", "--data", trained.Data, "--out", run, .. args]);
        return run;
    }

    [Fact]
    public void ATextModelTrainsWithItsVocabularyAndSamplesPrompts()
    {
        var folder = trained.NewFolder();
        var run = TrainText(folder, "--validate-every", "1", "--sample-every", "3");
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile))))
        {
            var unet = config.RootElement.GetProperty("network");
            Assert.False(unet.TryGetProperty("num_classes", out var classes) && classes.ValueKind != JsonValueKind.Null);
            var vocabulary = unet.GetProperty("text_encoder").GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal(["[PAD]", "[UNK]", "[CLS]"], vocabulary.Take(3));
            Assert.Contains("photo", vocabulary);
            Assert.Contains("3", vocabulary);
            Assert.Equal(0.2, config.RootElement.GetProperty("training").GetProperty("cond_drop").GetDouble());
        }
        Assert.Single(Directory.GetFiles(Path.Combine(run, "samples"), "*.png"));

        var one = Path.Combine(folder, "one.png");
        var result = RunOk("sample", "--model", run, "--n", "3", "--steps", "3", "--prompt", "a photo of a 2", "--guidance", "3", "--out", one);
        Assert.Contains("prompt \"a photo of a 2\", guidance 3", result.Stdout);
        Assert.True(File.Exists(one));

        result = RunOk("sample", "--model", run, "--n", "2", "--steps", "3", "--prompt", "the number two, handwritten", "--guidance", "2", "--out", Path.Combine(folder, "unknown.png"));
        Assert.Contains("prompt \"the number two, handwritten\" ([UNK]: 'number', 'two', ',', 'handwritten'), guidance 2", result.Stdout);
        RunOk("sample", "--model", run, "--n", "2", "--steps", "3", "--prompt", "", "--guidance", "3", "--out", Path.Combine(folder, "empty.png"));

        result = RunOk("sample", "--model", run, "--n", "6", "--steps", "3", "--out", Path.Combine(folder, "rows.png"));
        Assert.Contains("wrote a grid of 8 images", result.Stdout);
        Assert.Contains("one row per class prompted \"a photo of a 0\"", result.Stdout);
    }

    [Fact]
    public void PromptedSamplingIsReproducibleAndThePromptMatters()
    {
        var folder = trained.NewFolder();
        var run = TrainText(folder);
        string Draw(string name, string prompt)
        {
            var path = Path.Combine(folder, name);
            RunOk("sample", "--model", run, "--n", "2", "--steps", "3", "--prompt", prompt, "--guidance", "3", "--seed", "3", "--precision", "fp32", "--out", path);
            return path;
        }
        Assert.Equal(File.ReadAllBytes(Draw("a.png", "a photo of a 1")), File.ReadAllBytes(Draw("b.png", "a photo of a 1")));
        using var model = Diffuse.Pipelines.ImageModel.Load(run);
        var scheduler = Diffuse.Sampling.Schedulers.Create("ddim", model.Config.Scheduler);
        TorchSharp.torch.Tensor Sample(string prompt, double scale)
        {
            using var g = new TorchSharp.torch.Generator(3);
            return model.Sample(2, scheduler, 3, g, Diffuse.Guidance.TextConditioning.Single(2, prompt, scale));
        }
        using var one = Sample("a photo of a 1", 3);
        using var oneAgain = Sample("a photo of a 1", 3);
        using var three = Sample("a photo of a 3", 3);
        using var unconditional = Sample("a photo of a 1", 0);
        using var empty = Sample("", 3);
        Assert.True(one.allclose(oneAgain, rtol: 0, atol: 0));
        Assert.False(one.allclose(three, rtol: 0, atol: 0));
        // W = 0 and the empty prompt are both the unconditional model (in batches of 2 and 4: equal up to rounding).
        Assert.True(unconditional.allclose(empty, rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void ResumingATextRunIsExact()
    {
        var folder = trained.NewFolder();
        var straight = TrainText(folder);
        var resumed = Path.Combine(folder, "resumed");
        RunOk(["train", "--data", trained.Data, "--out", resumed, .. Text, "--stop-at", "1"]);
        RunOk("train", "--resume", "--out", resumed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, ModelDirectory.ModelFile)), File.ReadAllBytes(Path.Combine(resumed, ModelDirectory.ModelFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, ModelDirectory.EmaFile)), File.ReadAllBytes(Path.Combine(resumed, ModelDirectory.EmaFile)));
    }

    [Fact]
    public void EvalReportsTheLabelAccuracyOfEachPrompt()
    {
        var folder = trained.NewFolder();
        var run = TrainText(folder);
        var prompts = Path.Combine(folder, "prompts.tsv");
        File.WriteAllLines(prompts, ["# label<TAB>prompt", "1\ta picture of the 1", "", "3\tone 3, please"]);
        var result = RunOk("eval", "--model", run, "--data", trained.Data, "--n", "6", "--steps", "2", "--guidance", "2", "--prompts", prompts, "--cache-dir", folder);
        Assert.Contains("label accuracy per prompt (3 samples each", result.Stdout);
        Assert.Contains("1\t\"a picture of the 1\"", result.Stdout);
        Assert.Contains("3\t\"one 3, please\" ([UNK]: 'one', ',', 'please')", result.Stdout);
        Assert.Contains("overall (6 samples, 2 prompts)", result.Stdout);
        Assert.Contains("as the requested class; each prompt's class)", result.Stdout);
        // The built-in held-out wordings: one per class.
        result = RunOk("eval", "--model", run, "--data", trained.Data, "--n", "4", "--steps", "2", "--cache-dir", folder);
        Assert.Contains("0\t\"a close-up photograph of one 0\"", result.Stdout);
        Assert.Contains("overall (4 samples, 4 prompts)", result.Stdout);
    }

    [Fact]
    public void BadTextInputIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var run = TrainText(folder);
        var grid = Path.Combine(folder, "g.png");
        Assert.Contains("--prompt needs a text-conditional model (train --cond text)", Fails(2, "sample", "--model", trained.Model, "--prompt", "a 3", "--out", grid).Stderr);
        Assert.Contains("is text-conditional: pass a prompt", Fails(2, "sample", "--model", run, "--class", "1", "--out", grid).Stderr);
        Assert.Contains("--prompts needs a text-conditional model", Fails(2, "eval", "--model", trained.Model, "--prompts", "p.tsv", "--n", "4").Stderr);
        Fails(2, "sample", "--model", run, "--prompt", "a 3", "--guidance", "-1", "--out", grid);
        Assert.False(File.Exists(grid));

        var prompts = Path.Combine(folder, "bad.tsv");
        File.WriteAllLines(prompts, ["1\tfine", "no tab here"]);
        Assert.Contains("bad.tsv:2: expected 'label<TAB>prompt'", Fails(2, "eval", "--model", run, "--prompts", prompts, "--n", "4").Stderr);
        File.WriteAllLines(prompts, ["9\tout of range"]);
        Assert.Contains("bad.tsv:1: class 9 is outside", Fails(2, "eval", "--model", run, "--prompts", prompts, "--n", "4").Stderr);
        Assert.Contains("does not exist", Fails(2, "eval", "--model", run, "--prompts", Path.Combine(folder, "none.tsv"), "--n", "4").Stderr);

        var outDir = Path.Combine(folder, "out");
        Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. ImageCliTests.TinyImageTraining, "--cond", "words"]);
        Fails(2, ["train", "--data", trained.Data, "--out", outDir, .. Text, "--cond-drop", "2"]);
        Assert.Contains("text conditioning is not supported for continuous-time SDE models", Fails(1, ["train", "--data", trained.Data, "--out", outDir, .. Text, "--sde", "vp"]).Stderr);
        Assert.False(File.Exists(Path.Combine(outDir, ModelDirectory.ConfigFile)));
    }
}
