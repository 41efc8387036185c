using System.Text.Json;
using Diffuse.IO;
using Diffuse.Tests.Data;
using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>train-classifier, classifier guidance in sample and eval, export and eval --cas through the CLI entry (the 4-class synthetic IDX set).</summary>
[Collection(ImageCliCollection.Name)]
public class ClassifierCliTests(TrainedImageModel trained)
{
    /// <summary>A classifier for the fixture's model: its schedule (20 timesteps), 3 steps.</summary>
    string TrainClassifier(string folder, params string[] extra)
    {
        var clf = Path.Combine(folder, "clf");
        RunOk(["train-classifier", "--data", trained.Data, "--out", clf, "--schedule-from", trained.Model, "--steps", "3", "--batch-size", "4", .. extra]);
        return clf;
    }

    [Fact]
    public void TrainClassifierWritesItsFolderAndGuidesSampleAndEval()
    {
        var folder = trained.NewFolder();
        var clf = Path.Combine(folder, "clf");
        var result = RunOk("train-classifier", "--data", trained.Data, "--out", clf, "--schedule-from", trained.Model, "--steps", "3", "--batch-size", "4");
        Assert.Contains("held-out accuracy (4 images): clean", result.Stdout);
        Assert.Contains("t = 5", result.Stdout);
        Assert.Equal(["classifier.safetensors", "config.json"], Directory.GetFileSystemEntries(clf).Select(Path.GetFileName).Order());
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(clf, ModelDirectory.ConfigFile))))
        {
            var root = config.RootElement;
            Assert.Equal("diffuse-classifier", root.GetProperty("format").GetString());
            Assert.Equal(20, root.GetProperty("schedule").GetProperty("num_train_timesteps").GetInt32());
            Assert.Equal(28, root.GetProperty("image").GetProperty("height").GetInt32());
            Assert.Equal(1, root.GetProperty("image").GetProperty("channels").GetInt32());
            Assert.Equal(["0", "1", "2", "3"], root.GetProperty("image").GetProperty("class_names").EnumerateArray().Select(e => e.GetString()));
            Assert.True(root.GetProperty("accuracy").GetProperty("clean").GetDouble() >= 0);
        }
        // An existing folder is not replaced without --force.
        Assert.Contains("not empty", Fails(2, "train-classifier", "--data", trained.Data, "--out", clf, "--steps", "1").Stderr);

        var grid = Path.Combine(folder, "guided.png");
        result = RunOk("sample", "--model", trained.Model, "--classifier", clf, "--classifier-scale", "5", "--class", "2", "--n", "3", "--steps", "3", "--out", grid);
        Assert.Contains("class 2 '2', classifier scale 5", result.Stdout);
        Assert.True(File.Exists(grid));
        foreach (var sampler in new[] { "ddpm", "dpmpp_2m", "euler_ancestral" })
            RunOk("sample", "--model", trained.Model, "--classifier", clf, "--classifier-scale", "2", "--n", "4", "--steps", "3", "--sampler", sampler, "--out", Path.Combine(folder, $"{sampler}.png"));

        // The scale changes the samples; scale 0 is the unguided model.
        string Draw(string name, string scale)
        {
            var path = Path.Combine(folder, name);
            RunOk("sample", "--model", trained.Model, "--classifier", clf, "--classifier-scale", scale, "--class", "1", "--n", "2", "--steps", "3", "--precision", "fp32", "--seed", "4", "--out", path);
            return path;
        }
        var plain = Path.Combine(folder, "plain.png");
        RunOk("sample", "--model", trained.Model, "--n", "2", "--steps", "3", "--precision", "fp32", "--seed", "4", "--out", plain);
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(Draw("s0.png", "0")));
        Assert.NotEqual(File.ReadAllBytes(plain), File.ReadAllBytes(Draw("s50.png", "50")));

        result = RunOk("eval", "--model", trained.Model, "--data", trained.Data, "--classifier", clf, "--classifier-scale", "3", "--n", "8", "--steps", "2", "--cache-dir", folder);
        Assert.Contains("label accuracy", result.Stdout);
        Assert.Contains("classifier scale 3", result.Stdout);
    }

    [Fact]
    public void BadClassifierInputIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var clf = TrainClassifier(folder);
        var grid = Path.Combine(folder, "g.png");
        // Another schedule (the default 1000 steps), another image size.
        var otherSchedule = Path.Combine(folder, "clf1000");
        RunOk("train-classifier", "--data", trained.Data, "--out", otherSchedule, "--steps", "1", "--batch-size", "4");
        Assert.Contains("was trained on the noise schedule (linear, 1000 steps", Fails(1, "sample", "--model", trained.Model, "--classifier", otherSchedule, "--out", grid).Stderr);
        var otherSize = Path.Combine(folder, "clf32");
        RunOk("train-classifier", "--data", trained.Data, "--out", otherSize, "--schedule-from", trained.Model, "--image-size", "32", "--steps", "1", "--batch-size", "4");
        Assert.Contains("trained on 1x32x32 images but", Fails(1, "sample", "--model", trained.Model, "--classifier", otherSize, "--out", grid).Stderr);
        Assert.Contains("trained on 1x32x32 images but", Fails(1, "eval", "--model", trained.Model, "--classifier", otherSize, "--n", "4", "--cache-dir", folder).Stderr);

        Assert.Contains("--classifier-scale needs --classifier", Fails(2, "sample", "--model", trained.Model, "--classifier-scale", "2", "--out", grid).Stderr);
        Fails(2, "sample", "--model", trained.Model, "--classifier", clf, "--classifier-scale", "-1", "--out", grid);
        Assert.Contains("score sampler 'pc'", Fails(2, "sample", "--model", trained.Model, "--classifier", clf, "--sampler", "pc", "--steps", "3", "--out", grid).Stderr);
        Assert.Contains("with --classifier use --classifier-scale", Fails(2, "sample", "--model", trained.Model, "--classifier", clf, "--guidance", "3", "--out", grid).Stderr);
        Assert.Contains("unknown class 'seven'", Fails(1, "sample", "--model", trained.Model, "--classifier", clf, "--class", "seven", "--out", grid).Stderr);
        Assert.Contains("is not a classifier folder", Fails(1, "sample", "--model", trained.Model, "--classifier", folder, "--out", grid).Stderr);
        Assert.Contains("not a classifier config", Fails(1, "sample", "--model", trained.Model, "--classifier", trained.Model, "--out", grid).Stderr);
        Assert.False(File.Exists(grid));
        var cond = Path.Combine(folder, "cond");
        RunOk(["train", "--data", trained.Data, "--out", cond, .. ImageCliTests.TinyImageTraining, "--cond", "class"]);
        Assert.Contains("is class-conditional", Fails(2, "sample", "--model", cond, "--classifier", clf, "--out", grid).Stderr);
        // eval nll samples nothing, so it has no --classifier (System.CommandLine: "Unrecognized command or argument '--classifier'.").
        Assert.Contains("'--classifier'", Fails(2, "eval", "nll", "--model", trained.Model, "--classifier", clf).Stderr);
        Fails(1, "train-classifier", "--data", Path.Combine(folder, "missing"), "--out", Path.Combine(folder, "x"));
        Assert.False(Directory.Exists(Path.Combine(folder, "x")));
    }

    [Fact]
    public void ExportWritesOneFolderPerClassAndRefusesToOverwrite()
    {
        var folder = trained.NewFolder();
        var cond = Path.Combine(folder, "cond");
        RunOk(["train", "--data", trained.Data, "--out", cond, .. ImageCliTests.TinyImageTraining, "--cond", "class", "--cond-drop", "0.2"]);
        var synth = Path.Combine(folder, "synth");
        var result = RunOk("export", "--model", cond, "--per-class", "2", "--out", synth, "--guidance", "2", "--sampler", "dpmpp_2m", "--steps", "3");
        Assert.Contains("wrote 8 images, 2 of each of 4 classes", result.Stdout);
        Assert.Equal(["0", "1", "2", "3"], Directory.GetDirectories(synth).Select(Path.GetFileName).Order());
        foreach (var classFolder in Directory.GetDirectories(synth))
        {
            Assert.Equal(["000000.png", "000001.png"], Directory.GetFiles(classFolder).Select(Path.GetFileName).Order());
            using var image = SKBitmap.Decode(Path.Combine(classFolder, "000000.png"));
            Assert.Equal(28, image.Width);
        }
        Assert.Empty(Directory.GetFileSystemEntries(folder, ".synth*"));

        // Refused without --force, and nothing changes; with --force the folder is replaced as a whole.
        var before = File.ReadAllBytes(Path.Combine(synth, "0", "000000.png"));
        Assert.Contains("not empty", Fails(2, "export", "--model", cond, "--per-class", "1", "--out", synth, "--steps", "2").Stderr);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(synth, "0", "000000.png")));
        RunOk("export", "--model", cond, "--per-class", "1", "--out", synth, "--steps", "2", "--force");
        Assert.Equal(["000000.png"], Directory.GetFiles(Path.Combine(synth, "0")).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFileSystemEntries(folder, ".synth*"));

        Assert.Contains("is unconditional", Fails(2, "export", "--model", trained.Model, "--per-class", "1", "--out", Path.Combine(folder, "u")).Stderr);
        Fails(2, "export", "--model", cond, "--out", Path.Combine(folder, "u"));
        Fails(2, "export", "--model", cond, "--per-class", "0", "--out", Path.Combine(folder, "u"));
        Fails(2, "export", "--model", cond, "--per-class", "1", "--sampler", "pc", "--out", Path.Combine(folder, "u"));
        Assert.False(Directory.Exists(Path.Combine(folder, "u")));

        // The CAS of the exported folder against the real data (a smoke run; the separable case is in ClassificationAccuracyScoreTests).
        result = RunOk("eval", "cas", "--synthetic", synth, "--data", trained.Data);
        Assert.Contains("synthetic images", result.Stdout);
        Assert.Contains("real images", result.Stdout);
        Assert.Contains("real validation images", result.Stdout);
        // With --model, the test images are the ones the model held out (2 of its 40: val_fraction 0.05).
        result = RunOk("eval", "cas", "--synthetic", synth, "--model", cond);
        Assert.Contains($"on {trained.Data} (2 real images held out by {cond};", result.Stdout);
        Assert.Contains("trained on      4 real images", result.Stdout);
    }

    [Fact]
    public void BadCasInputIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var synth = Path.Combine(folder, "synth");
        for (int k = 0; k < 3; k++) SyntheticImages.WriteSolid(Path.Combine(synth, $"{k}", "a.png"), 28, 28, new SKColor((byte)(k * 80), 0, 0));
        Assert.Contains("no class '3'", Fails(1, "eval", "cas", "--synthetic", synth, "--data", trained.Data).Stderr);
        SyntheticImages.WriteSolid(Path.Combine(synth, "cat", "a.png"), 28, 28, new SKColor(9, 0, 0));
        Assert.Contains("the synthetic class 'cat' is none of the classes", Fails(1, "eval", "cas", "--synthetic", synth, "--data", trained.Data).Stderr);
        Assert.Contains("'eval cas' needs --data", Fails(2, "eval", "cas", "--synthetic", synth).Stderr);
        Fails(2, "eval", "cas", "--data", trained.Data);
        Fails(2, "eval", "cas", "--synthetic", Path.Combine(folder, "missing"), "--data", trained.Data);
        Assert.Contains("was trained on", Fails(2, "eval", "cas", "--synthetic", synth, "--data", folder, "--model", trained.Model).Stderr);
        Assert.Contains("does not exist", Fails(1, "eval", "cas", "--synthetic", synth, "--model", Path.Combine(folder, "none")).Stderr);
        Fails(2, "eval", "cas", "--synthetic", synth, "--data", trained.Data, "--guidance", "2");
        Fails(2, "eval", "--synthetic", synth, "--data", trained.Data);
    }
}
