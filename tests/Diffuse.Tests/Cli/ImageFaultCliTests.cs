using Diffuse.IO;
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
}
