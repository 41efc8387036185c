using Diffuse.Training;
using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Guidance;

public class NoisyClassifierTests
{
    static NoisyClassifierConfig Config(int steps = 80) => new()
    {
        Encoder = new UNetConfig { BaseChannels = 8, ChannelMult = [1, 2, 2], NumResBlocks = 1, AttentionResolutions = [], NumHeads = 2, GroupNormGroups = 4 }
            .ForImages(1, 8),
        Schedule = new ClassifierSchedule { NumTrainTimesteps = 100 },
        Data = "stripes",
        Image = new ImageSpec { Channels = 1, Height = 8, Width = 8, ClassNames = ["dark", "bright"], TrainCount = 32 },
        Training = new NoisyClassifierSettings { Steps = steps, BatchSize = 16, LearningRate = 3e-3, ShiftPixels = 1 },
    };

    /// <summary>32 images: class 0 all -0.8, class 1 all +0.8, with a little pixel noise.</summary>
    static (Tensor Images, Tensor Labels) Data()
    {
        using var g = new Generator(5);
        var labels = arange(32, ScalarType.Int64) % 2;
        var images = (labels.to(ScalarType.Float32) * 1.6f - 0.8f).view(-1, 1, 1, 1).expand(-1, 1, 8, 8) + 0.05 * randn([32, 1, 8, 8], generator: g);
        return (images.contiguous(), labels);
    }

    [Fact]
    public void TrainingOnAFewImagesLearnsTheClassesAtLowNoiseAndIsReproducible()
    {
        var config = Config();
        var (images, labels) = Data();
        using var first = NoisyClassifierTraining.Train(config, images, labels);
        using var second = NoisyClassifierTraining.Train(config, images, labels);
        foreach (var ((name, a), (_, b)) in first.named_parameters().Zip(second.named_parameters()))
            Assert.True(a.eq(b).all().item<bool>(), $"{name} differs between two runs of one seed");
        var accuracy = NoisyClassifierTraining.Measure(first, config.Schedule, images, labels, seed: 1);
        Assert.Equal(32, accuracy.Images);
        Assert.True(accuracy.Clean >= 0.9, $"clean accuracy {accuracy.Clean}");
        Assert.Equal([25, 50, 75], accuracy.AtTimesteps.Select(p => p.Timestep));
        // At t = 25 the images keep most of their signal (sqrt(abar) > 0.9 here).
        Assert.True(accuracy.AtTimesteps[0].Accuracy >= 0.9, $"accuracy at t = 25: {accuracy.AtTimesteps[0].Accuracy}");

        using var untrained = NoisyClassifierTraining.Train(Config(steps: 1) with { Training = config.Training with { Steps = 1, LearningRate = 1e-9 } }, images, labels);
        Assert.True(NoisyClassifierTraining.Measure(untrained, config.Schedule, images, labels, seed: 1).Clean <= 0.75);
    }

    [Fact]
    public void AClassifierFolderRoundTripsAndRefusesModelsItCannotGuide()
    {
        var config = Config(steps: 2);
        var (images, labels) = Data();
        using var classifier = NoisyClassifierTraining.Train(config, images, labels);
        var folder = Path.Combine(Path.GetTempPath(), $"diffuse-clf-{Guid.NewGuid():N}");
        try
        {
            NoisyClassifierTraining.Save(folder, config, classifier);
            Assert.Equal(["classifier.safetensors", "config.json"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
            var (loaded, network) = NoisyClassifierTraining.Load(folder);
            using (network)
            {
                Assert.Equal(config.Schedule, loaded.Schedule);
                Assert.Equal(config.Image.ClassNames, loaded.Image.ClassNames);
                using var x = images.narrow(0, 0, 4);
                using var t = tensor(new long[] { 0, 10, 50, 99 });
                using var _ = no_grad();
                Assert.True(classifier.forward(x, t).allclose(network.forward(x, t)));
            }

            var model = new ModelConfig
            {
                Model = null,
                Unet = UNetConfig.Tiny.ForImages(1, 8) with { ChannelMult = [1, 2], AttentionResolutions = [] },
                Scheduler = new SchedulerConfig { NumTrainTimesteps = 100 },
                Data = new DataSpec { Name = "stripes", Dim = 64, Mean = [], Image = new ImageSpec { Height = 8, Width = 8 } },
            };
            loaded.CheckGuides(model, folder, "m");
            var size = Assert.Throws<DiffuseException>(() => loaded.CheckGuides(model with { Data = model.Data with { Dim = 256, Image = new ImageSpec { Height = 16, Width = 16 } } }, folder, "m"));
            Assert.Contains("was trained on 1x8x8 images but 'm' makes 1x16x16 ones", size.Message);
            var channels = Assert.Throws<DiffuseException>(() => loaded.CheckGuides(model with { Data = model.Data with { Dim = 192, Image = new ImageSpec { Channels = 3, Height = 8, Width = 8 } } }, folder, "m"));
            Assert.Contains("3x8x8", channels.Message);
            var schedule = Assert.Throws<DiffuseException>(() => loaded.CheckGuides(model with { Scheduler = new SchedulerConfig { NumTrainTimesteps = 1000 } }, folder, "m"));
            Assert.Contains("noise schedule (linear, 100 steps", schedule.Message);
            Assert.Contains("(linear, 1000 steps", schedule.Message);
            var cosine = Assert.Throws<DiffuseException>(() => loaded.CheckGuides(model with { Scheduler = new SchedulerConfig { NumTrainTimesteps = 100, BetaSchedule = BetaSchedule.SquaredcosCapV2 } }, folder, "m"));
            Assert.DoesNotContain("\n", cosine.Message);

            File.WriteAllText(Path.Combine(folder, ModelDirectory.ConfigFile), "{\"format\": \"diffuse-model\"}");
            Assert.Contains("not a classifier config", Assert.Throws<DiffuseException>(() => NoisyClassifierTraining.Load(folder)).Message);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
