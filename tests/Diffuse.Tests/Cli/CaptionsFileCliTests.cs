using System.Text.Json;
using Diffuse.Data;
using Diffuse.IO;
using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>Text-conditional training on a captions.tsv beside an image folder, through the CLI entry.</summary>
[Collection(ImageCliCollection.Name)]
public class CaptionsFileCliTests(TrainedImageModel trained)
{
    static readonly string[] Text = [.. ImageCliTests.TinyImageTraining, "--cond", "text", "--cond-drop", "0.2", "--image-size", "16"];

    /// <summary>Six light and six dark 20x20 images in class sub-folders (or flat), each with one or two captions.</summary>
    static string CaptionedFolder(string parent, bool classes = true)
    {
        var folder = Path.Combine(parent, "images");
        var lines = new List<string> { "# path<TAB>caption" };
        for (int i = 0; i < 12; i++)
        {
            bool light = i % 2 == 0;
            string name = classes ? $"{(light ? "light" : "dark")}/{i:D2}.png" : $"{i:D2}.png";
            byte level = (byte)(light ? 200 + i : 20 + i);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, name))!);
            EditCliTests.WritePng(Path.Combine(folder, name), 20, 20, (x, y) => new SKColor(level, level, level));
            lines.Add($"{name}\t{(light ? "a bright white blob" : "a black square at night")}");
            if (i % 3 == 0) lines.Add($"{name}\t{(light ? "snow" : "coal")}");
        }
        File.WriteAllLines(Path.Combine(folder, ImageDatasets.CaptionsFile), lines);
        return folder;
    }

    [Fact]
    public void ATextModelLearnsTheCaptionsFilesWordsAndSamplesAPrompt()
    {
        var parent = trained.NewFolder();
        var data = CaptionedFolder(parent);
        var run = Path.Combine(parent, "run");
        RunOk(["train", "--data", data, "--out", run, .. WithOverrides(Text, "--sample-every", "3", "--validate-every", "3")]);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile))))
        {
            var text = config.RootElement.GetProperty("network").GetProperty("text_encoder");
            Assert.Equal(ImageDatasets.CaptionsFile, text.GetProperty("captions").GetString());
            var vocabulary = text.GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "a", "at", "black", "blob", "bright", "coal", "night", "snow", "square", "white"], vocabulary);
        }
        Assert.Single(Directory.GetFiles(Path.Combine(run, "samples"), "*.png"));

        var result = RunOk("sample", "--model", run, "--n", "2", "--steps", "3", "--prompt", "a bright blob", "--guidance", "3", "--out", Path.Combine(parent, "blob.png"));
        Assert.Contains("prompt \"a bright blob\", guidance 3", result.Stdout);
        Assert.Contains("pass --prompt TEXT", Fails(2, "sample", "--model", run, "--n", "2", "--steps", "3", "--out", Path.Combine(parent, "rows.png")).Stderr);
        Assert.False(File.Exists(Path.Combine(parent, "rows.png")));

        Assert.Contains("pass --prompts FILE", Fails(2, "eval", "--model", run, "--n", "2", "--steps", "2", "--cache-dir", parent).Stderr);
        var prompts = Path.Combine(parent, "prompts.tsv");
        File.WriteAllLines(prompts, ["light\ta white blob", "dark\tcoal at night"]);
        result = RunOk("eval", "--model", run, "--n", "4", "--steps", "2", "--guidance", "2", "--prompts", prompts, "--cache-dir", parent);
        Assert.Contains("light\t\"a white blob\"", result.Stdout);
        Assert.Contains("overall (4 samples, 2 prompts)", result.Stdout);
    }

    [Fact]
    public void ResumingACaptionsRunIsExactAndOtherCaptionsAreRefused()
    {
        var parent = trained.NewFolder();
        var data = CaptionedFolder(parent);
        var straight = Path.Combine(parent, "straight");
        var resumed = Path.Combine(parent, "resumed");
        RunOk(["train", "--data", data, "--out", straight, .. Text]);
        RunOk(["train", "--data", data, "--out", resumed, .. Text, "--stop-at", "1"]);
        RunOk("train", "--resume", "--out", resumed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, ModelDirectory.ModelFile)), File.ReadAllBytes(Path.Combine(resumed, ModelDirectory.ModelFile)));

        File.AppendAllLines(Path.Combine(data, ImageDatasets.CaptionsFile), ["light/00.png\ta new word"]);
        var error = Fails(1, "train", "--resume", "--out", straight, "--steps", "5").Stderr;
        Assert.Contains("differ from the run's vocabulary", error);
        File.Delete(Path.Combine(data, ImageDatasets.CaptionsFile));
        Assert.Contains("no longer there", Fails(1, "train", "--resume", "--out", straight, "--steps", "5").Stderr);
    }

    [Fact]
    public void UnlabelledImagesNeedACaptionsFileAndCannotBeScoredByLabel()
    {
        var parent = trained.NewFolder();
        var data = CaptionedFolder(parent, classes: false);
        var run = Path.Combine(parent, "run");
        RunOk(["train", "--data", data, "--out", run, .. Text]);
        Assert.Contains("learnt from unlabelled images", Fails(2, "eval", "--model", run, "--n", "2", "--steps", "2", "--prompts", "p.tsv", "--cache-dir", parent).Stderr);

        File.Delete(Path.Combine(data, ImageDatasets.CaptionsFile));
        var other = Path.Combine(parent, "other");
        var error = Fails(1, ["train", "--data", data, "--out", other, .. Text]).Stderr;
        Assert.Contains("has no class labels and no captions.tsv", error);
        Assert.False(File.Exists(Path.Combine(other, ModelDirectory.ConfigFile)));

        File.WriteAllLines(Path.Combine(data, ImageDatasets.CaptionsFile), ["00.png\tfine", "missing.png\tno such image"]);
        error = Fails(1, ["train", "--data", data, "--out", other, .. Text]).Stderr;
        Assert.Contains("captions.tsv:2: 'missing.png' is not an image of", error);
        Assert.False(File.Exists(Path.Combine(other, ModelDirectory.ConfigFile)));
    }
}
