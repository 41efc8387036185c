using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using Diffuse.Training;
using Xunit;

namespace Diffuse.Tests.Training;

public class ImageTrainingTests
{
    /// <summary>A U-Net small enough for a step in a few tens of milliseconds, with dropout so that the default generator matters.</summary>
    public static ModelConfig TinyTemplate(int steps, double lr = 1e-3) => new()
    {
        Model = null,
        Unet = new UNetConfig { BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [14], NumHeads = 2, GroupNormGroups = 4, Dropout = 0.1 },
        Scheduler = new SchedulerConfig { NumTrainTimesteps = 50 },
        Training = new TrainingSpec
        {
            Steps = steps, BatchSize = 8, GradientAccumulation = 2, LearningRate = lr, WarmupSteps = 2, EmaDecay = 0.9,
            HorizontalFlip = true, CropPadding = 2, ValidationFraction = 0.1, CheckpointEvery = 0, ValidateEvery = 3, SampleEvery = 0,
        },
    };

    static string Data(TempFolder folder, int count = 40)
    {
        var data = Path.Combine(folder.Path, $"idx-{count}");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", count, 28, 28, 4);
        return data;
    }

    static ImageTrainingOptions Options(string data, string outDir, int steps, double lr = 1e-3) =>
        new() { Data = data, OutDir = outDir, Template = TinyTemplate(steps, lr), LogEvery = 2, ValidationImages = 8 };

    static byte[] Weights(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    [Fact]
    public void StoppingAndResumingGivesBitwiseTheSameWeightsAsOneRun()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        string straight = Path.Combine(folder.Path, "straight"), resumed = Path.Combine(folder.Path, "resumed");

        var one = ImageTraining.Run(Options(data, straight, 6));
        Assert.Equal(6, one.EndStep);
        Assert.False(one.Interrupted);

        var first = ImageTraining.Run(Options(data, resumed, 6) with { StopAtStep = 3 });
        Assert.Equal(3, first.EndStep);
        Assert.Equal(3, TrainCheckpoint.StepOf(ImageTraining.CheckpointPath(resumed)));
        var second = ImageTraining.Run(new ImageTrainingOptions { OutDir = resumed, Resume = true, LogEvery = 2, ValidationImages = 8 });
        Assert.Equal(3, second.StartStep);
        Assert.Equal(6, second.EndStep);

        Assert.Equal(Weights(straight, ModelDirectory.ModelFile), Weights(resumed, ModelDirectory.ModelFile));
        Assert.Equal(Weights(straight, ModelDirectory.EmaFile), Weights(resumed, ModelDirectory.EmaFile));
        Assert.Equal(File.ReadAllText(Path.Combine(straight, ModelDirectory.ConfigFile)), File.ReadAllText(Path.Combine(resumed, ModelDirectory.ConfigFile)));
    }

    [Fact]
    public void CtrlCWritesACheckpointFromWhichTheRunContinuesExactly()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        string straight = Path.Combine(folder.Path, "straight"), interrupted = Path.Combine(folder.Path, "interrupted");
        ImageTraining.Run(Options(data, straight, 5));

        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress<TrainProgress>(p => { if (p.Step == 2) cancel.Cancel(); });
        var outcome = ImageTraining.Run(Options(data, interrupted, 5), progress, cancel: cancel.Token);
        Assert.True(outcome.Interrupted);
        Assert.Equal(2, outcome.EndStep);
        Assert.Equal(2, TrainCheckpoint.StepOf(ImageTraining.CheckpointPath(interrupted)));

        ImageTraining.Run(new ImageTrainingOptions { OutDir = interrupted, Resume = true, LogEvery = 2, ValidationImages = 8 });
        Assert.Equal(Weights(straight, ModelDirectory.ModelFile), Weights(interrupted, ModelDirectory.ModelFile));
        Assert.Equal(Weights(straight, ModelDirectory.EmaFile), Weights(interrupted, ModelDirectory.EmaFile));
    }

    [Fact]
    public void TheRunFolderHoldsALoadableModelGridsAndTensorBoardEvents()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        string dir = Path.Combine(folder.Path, "run");
        var options = Options(data, dir, 4) with { GridImages = 4, GridSteps = 2 };
        options = options with { Template = options.Template! with { Training = options.Template.Training with { SampleEvery = 2 } } };
        var outcome = ImageTraining.Run(options);
        Assert.NotNull(outcome.ValidationLoss);
        Assert.True(double.IsFinite(outcome.ValidationLoss!.Value));
        Assert.True(File.Exists(Path.Combine(dir, ImageTraining.SamplesFolder, "step-000002.png")));
        Assert.True(File.Exists(Path.Combine(dir, ImageTraining.SamplesFolder, "step-000004.png")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, ImageTraining.TensorBoardFolder), "events.out.tfevents.*"));

        using var model = ImageModel.Load(dir);
        Assert.Equal(1, model.Image.Channels);
        Assert.Equal(28, model.Image.Height);
        Assert.Equal(["0", "1", "2", "3"], model.Image.ClassNames);
        Assert.Equal(36, model.Image.TrainCount);
        using var g = new TorchSharp.torch.Generator(1);
        using var images = model.Sample(3, Schedulers.Create("ddim", model.Config.Scheduler), 3, g);
        Assert.Equal([3L, 1, 28, 28], images.shape);
        Assert.True(images.abs().max().item<float>() <= 1f);
    }

    [Fact]
    public void ResumingIsRefusedWithoutACheckpointAfterTheEndOrWithOtherData()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        string dir = Path.Combine(folder.Path, "run");

        var missing = Assert.Throws<DiffuseException>(() => ImageTraining.Run(new ImageTrainingOptions { OutDir = dir, Resume = true }));
        Assert.Contains("does not exist", missing.Message);

        ImageTraining.Run(Options(data, dir, 2));
        var done = Assert.Throws<DiffuseException>(() => ImageTraining.Run(new ImageTrainingOptions { OutDir = dir, Resume = true }));
        Assert.Contains("already trained 2 of 2 steps", done.Message);

        // A longer run continues from the checkpoint.
        var longer = ImageTraining.Run(new ImageTrainingOptions { OutDir = dir, Resume = true, Steps = 3, ValidationImages = 8 });
        Assert.Equal(2, longer.StartStep);
        Assert.Equal(3, longer.EndStep);

        // The data changed under the run: refused before anything is written.
        SyntheticImages.WriteIdxPair(data, "train", 50, 28, 28, 4);
        var before = Weights(dir, ModelDirectory.ModelFile);
        var changed = Assert.Throws<DiffuseException>(() => ImageTraining.Run(new ImageTrainingOptions { OutDir = dir, Resume = true, Steps = 5 }));
        Assert.Contains("the data changed", changed.Message);
        Assert.Equal(before, Weights(dir, ModelDirectory.ModelFile));
    }

    [Fact]
    public void AnImageFolderTrainsAnRgbModelAtTheFolderSizeWithItsClasses()
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "photos");
        foreach (var (name, color) in new[] { ("cats", new SkiaSharp.SKColor(200, 30, 30)), ("dogs", new SkiaSharp.SKColor(30, 30, 200)) })
        {
            Directory.CreateDirectory(Path.Combine(data, name));
            for (int i = 0; i < 6; i++) SyntheticImages.WriteSolid(Path.Combine(data, name, $"{i}.png"), 40 + i, 36, color);
        }
        string dir = Path.Combine(folder.Path, "run");
        var options = Options(data, dir, 1) with { Template = TinyTemplate(1) with { Training = TinyTemplate(1).Training with { ValidationFraction = 0 } } };
        ImageTraining.Run(options);

        using var model = ImageModel.Load(dir);
        Assert.Equal(3, model.Image.Channels);
        Assert.Equal(32, model.Image.Height);
        Assert.Equal(["cats", "dogs"], model.Image.ClassNames);
        Assert.Equal(3, model.Config.Unet!.InChannels);
        Assert.Equal([16], model.Config.Unet.AttentionResolutions); // the preset's 14x14 level, at 32x32
    }

    [Fact]
    public void AFreshRunNeverOverwritesAModelWithoutForce()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        string dir = Path.Combine(folder.Path, "run");
        ImageTraining.Run(Options(data, dir, 2));
        var before = Weights(dir, ModelDirectory.ModelFile);
        var error = Assert.Throws<DiffuseException>(() => ImageTraining.Run(Options(data, dir, 2)));
        Assert.Contains("--force", error.Message);
        Assert.Equal(before, Weights(dir, ModelDirectory.ModelFile));
    }

    [Fact]
    public void ADivergingRunStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        string dir = Path.Combine(folder.Path, "run");
        var options = Options(data, dir, 50, lr: 1e30);
        options = options with { Template = options.Template! with { Training = options.Template.Training with { CheckpointEvery = 1, WarmupSteps = 0, GradClip = 1e30 } } };

        var error = Assert.Throws<DiffuseException>(() => ImageTraining.Run(options));

        Assert.Contains("the loss became", error.Message);
        Assert.Contains("last good checkpoint", error.Message);
        // The likely causes with the run's values, the weight decay among them when the run has one.
        Assert.Contains("the learning rate (1E+30)", error.Message);
        Assert.Contains(options.Template.Training.WeightDecay > 0 ? "--weight-decay" : "lower --lr", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        int? kept = TrainCheckpoint.StepOf(ImageTraining.CheckpointPath(dir));
        Assert.NotNull(kept);
        Assert.Contains($"(step {kept})", error.Message);
    }
}

public class DataOrderTests
{
    [Fact]
    public void EachEpochVisitsEveryExampleOnceAndTheOrderIsAFunctionOfTheSeed()
    {
        var order = new DataOrder(10, seed: 3);
        var epoch0 = Enumerable.Range(0, 5).SelectMany(m => order.Batch(m, 2)).ToArray();
        var epoch1 = Enumerable.Range(5, 5).SelectMany(m => order.Batch(m, 2)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        // Batches straddling epochs, asked for in any order, are the same positions of the same stream.
        var again = new DataOrder(10, seed: 3);
        Assert.Equal(epoch0.Concat(epoch1).Skip(9).Take(3), again.Batch(3, 3));
        Assert.Equal(order.Batch(1, 2), again.Batch(1, 2));
        Assert.NotEqual(epoch0, Enumerable.Range(0, 5).SelectMany(m => new DataOrder(10, seed: 4).Batch(m, 2)));
    }
}
