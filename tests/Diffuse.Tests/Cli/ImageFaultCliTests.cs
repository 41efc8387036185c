using Diffuse.Editing;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>Issue 20's remaining faults of image runs: no dead ends on resume, no leftovers after a failure.</summary>
[Collection(ImageCliCollection.Name)]
public class ImageFaultCliTests(TrainedImageModel trained)
{
    [Fact]
    public void ARunOfAtMostNImagesResumesWithTheSameImages()
    {
        var run = Path.Combine(trained.NewFolder(), "run");
        var first = RunOk(["train", "--data", trained.Data, "--out", run, .. ImageCliTests.TinyImageTraining, "--max-images", "20", "--stop-at", "1"]);
        Assert.Contains("stopped at step 1", first.Stdout);
        Assert.Contains("\"max_images\": 20", File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile)));

        // The printed command works as printed: the run's --max-images comes from its config.json.
        var second = RunOk("train", "--resume", "--out", run);
        Assert.Contains("from step 1 to 3 of 3", second.Stdout);
        // And changing it on resume is still refused, naming the option.
        Assert.Contains("--max-images", Fails(2, "train", "--resume", "--out", run, "--steps", "4", "--max-images", "30").Stderr);
        using var model = ImageModel.Load(run);
        Assert.Equal(20, model.Config.Data.Image!.MaxImages);
    }

    [Fact]
    public void RePaintSettingsOfDaysOfWorkAreRefusedBeforeAnyWork()
    {
        var folder = trained.NewFolder();
        var image = EditCliTests.WritePng(Path.Combine(folder, "in.png"), 28, 28, (x, y) => EditCliTests.Gray(x * 9));
        var mask = EditCliTests.WritePng(Path.Combine(folder, "mask.png"), 28, 28, (x, y) => EditCliTests.Gray(y >= 14 ? 255 : 0));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = Fails(2, "inpaint", "--model", trained.Model, "--image", image, "--mask", mask, "--out", Path.Combine(folder, "out.png"),
            "--steps", "20", "--jump-length", "2", "--resample", "1000000");

        Assert.Contains("--resample 1000000", result.Stderr);
        Assert.Contains("more than 1,000,000", result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.False(File.Exists(Path.Combine(folder, "out.png")));
    }

    [Theory]
    [InlineData(250, 10, 10)]
    [InlineData(20, 2, 3)]
    [InlineData(7, 3, 4)]
    [InlineData(5, 10, 3)]
    [InlineData(10, 1, 1)]
    public void TheScheduleLengthIsCountedWithoutBuildingIt(int steps, int jump, int resample) =>
        Assert.Equal(RePaint.Schedule(steps, jump, resample).Count, RePaintOptions.ScheduleLength(steps, jump, resample));

    [Fact]
    public void AResultThatCannotFitIsRefusedNamingNAndABatchIsCutToWhatFits()
    {
        long budget = NetworkMemory.BudgetBytes;
        long tooMany = budget / (2 * 4 * 784) + 1;
        var e = Assert.Throws<DiffuseException>(() => SampleMemory.CheckResult(tooMany, 784));
        Assert.Equal("n", e.Key);
        Assert.StartsWith("--n ", Diffuse.Cli.ConfigKeyFlags.Message(e));
        SampleMemory.CheckResult(tooMany / 2, 784);

        using var model = ImageModel.Load(trained.Model);
        model.BatchSize = 100_000;
        double perImage = SampleMemory.UNetBytesPerImage(model.Config.Network, model.Image.Height)!.Value;
        Assert.True(perImage > 4.0 * 784, $"{perImage} bytes per image is less than its pixels");
        int fitting = model.FittingBatchSize;
        Assert.InRange(fitting, 1, 100_000);
        Assert.True(fitting == 100_000 || (fitting + 1) * perImage > budget / 2.0, $"{fitting} images leave room for more");
        Assert.True(fitting == 1 || fitting * perImage <= budget / 2.0, $"{fitting} images of {perImage} bytes exceed half of {budget}");
        Assert.Equal(1, SampleMemory.FittingBatch(64, budget));
        Assert.Equal(64, SampleMemory.FittingBatch(64, 1));
    }

    [Fact]
    public void TenMillionImagesAreRefusedBeforeSamplingWhereTheyCannotFit()
    {
        var folder = trained.NewFolder();
        var grid = Path.Combine(folder, "x.png");
        bool fits = 2.0 * 4 * 784 * 10_000_000 <= NetworkMemory.BudgetBytes;
        if (fits) return; // a machine of over 80 GB takes them (and this test has nothing to check there)
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Contains("--n 10,000,000 samples", Fails(1, "sample", "--model", trained.Model, "--n", "10000000", "--out", grid).Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.False(File.Exists(grid));
    }

    [Fact]
    public void AFileWhereAFolderBelongsAndAFolderWhereAFileBelongAreNamedAsSuch()
    {
        var folder = trained.NewFolder();
        var file = Path.Combine(folder, "notes.txt");
        File.WriteAllText(file, "keep me");

        Assert.Contains($"is a file, '{file}'", Fails(2, "sample", "--model", trained.Model, "--n", "1", "--out", Path.Combine(file, "x.png")).Stderr);
        var mask = EditCliTests.WritePng(Path.Combine(folder, "mask.png"), 28, 28, (x, y) => EditCliTests.Gray(y >= 14 ? 255 : 0));
        var stderr = Fails(1, "inpaint", "--model", trained.Model, "--image", folder, "--mask", mask, "--out", Path.Combine(folder, "out.png"), "--steps", "2").Stderr;
        Assert.Contains($"the image '{folder}' is a folder", stderr);
        Assert.DoesNotContain("does not exist", stderr);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void AnOutputFolderThatCannotBeWrittenIsRefusedBeforeSampling()
    {
        // /proc takes no new files, not even root's (these tests may run as root, for whom chmod 555 changes nothing).
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self")) return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Fails(2, "sample", "--model", trained.Model, "--n", "2", "--steps", "2", "--out", "/proc/diffuse-never.png");
        Assert.Contains("cannot write into the folder of --out, '/proc'", result.Stderr);
        Assert.DoesNotContain("sample ddim", result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void ATrainingBatchWhoseActivationsCannotFitIsRefusedBeforeTraining()
    {
        using var model = ImageModel.Load(trained.Model);
        double perImage = SampleMemory.UNetBytesPerImage(model.Config.Network, 28)!.Value;
        if (1.5 * perImage * 100_000 <= NetworkMemory.BudgetBytes / 2.0) return; // a machine that can train it (none here)
        var run = Path.Combine(trained.NewFolder(), "run");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = Fails(1, "train", "--data", trained.Data, "--out", run, "--preset", "tiny", "--steps", "1", "--batch-size", "100000");

        Assert.Contains("--batch-size 100000 (100000 images a micro-batch) needs about", result.Stderr);
        Assert.Contains("--grad-accum", result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.False(Directory.Exists(run), "the refused run left its folder");
    }

    [Fact]
    public void ARunThatStopsBeforeItsFirstStepReportsNoLossRatherThanNaN()
    {
        var run = Path.Combine(trained.NewFolder(), "run");
        RunOk(["train", "--data", trained.Data, "--out", run, .. ImageCliTests.TinyImageTraining, "--stop-at", "1"]);

        // Stopped at the step it resumes from (as Ctrl-C before the first step stops it): no step, so no loss to report.
        var result = RunOk("train", "--resume", "--out", run, "--stop-at", "1");

        Assert.Contains("from step 1 to 1 of 3", result.Stdout);
        Assert.Contains("no step finished", result.Stdout);
        Assert.DoesNotContain("NaN", result.Stdout);
    }
}
