using Diffuse.Api;
using Diffuse.Configuration;
using Diffuse.Tests.IO;
using Diffuse.Training;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Models;

/// <summary>
/// A conditioning kind added from outside the library (<see cref="BrightnessConditioning"/>: a named condition slot, a
/// training plan registered with <see cref="TrainingConditionings.Register"/>, a sampling plan passed in a
/// <see cref="SampleRequest"/>) trains and samples through the public API with no library file touched.
/// </summary>
public class ConditioningKindTests
{
    static ConditioningKindTests()
    {
        ProbeConfig.Register();
        BrightnessConditioning.Register();
    }

    [Fact]
    public void ARegisteredConditioningKindTrainsAndSamplesThroughTheFacade()
    {
        using var folder = new TempFolder();
        string data = Path.Combine(folder.Path, "idx"), dir = Path.Combine(folder.Path, "run");
        Directory.CreateDirectory(data);
        Data.SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        var template = new ModelConfig
        {
            Network = new ProbeConfig { Hidden = 8, Brightness = true },
            Scheduler = new SchedulerConfig { NumTrainTimesteps = 50 },
            Training = new TrainingSpec
            {
                Steps = 3, BatchSize = 8, GradientAccumulation = 2, LearningRate = 1e-2, WarmupSteps = 1, EmaDecay = 0.5,
                ValidationFraction = 0.1, CheckpointEvery = 0, ValidateEvery = 0, SampleEvery = 0,
            },
        };
        int before = BrightnessConditioning.Draws;
        var outcome = ImageTraining.Run(new ImageTrainingOptions { Data = data, OutDir = dir, Template = template, ValidationImages = 4 });
        Assert.True(double.IsFinite(outcome.FinalLoss));
        // Every micro-batch of the run was conditioned by the registered plan (3 steps of 2 micro-batches).
        Assert.True(BrightnessConditioning.Draws - before >= 6, $"{BrightnessConditioning.Draws - before} conditioned micro-batches");

        using var model = DiffusionModel.Load(dir);
        var network = Assert.IsType<ProbeNetwork>(((Diffuse.Pipelines.ImageModel)model.Model).Network);
        float[] bright = [0.25f, -0.5f, 0.75f], dark = [-0.75f, -0.75f, -0.75f];
        var request = new SampleRequest { Count = 3, Sampler = "ddim", Steps = 4, Seed = 5, Precision = Precision.Fp32 };
        using var first = model.Sample(request with { Conditioning = new BrightnessPlan(bright) });
        // Each of the 4 network calls saw the requested values, in sample order.
        Assert.Equal(4, network.Brightnesses.Count);
        Assert.All(network.Brightnesses, seen => Assert.Equal(bright, seen));
        using var again = model.Sample(request with { Conditioning = new BrightnessPlan(bright) });
        using var other = model.Sample(request with { Conditioning = new BrightnessPlan(dark) });
        Assert.True(first.eq(again).all().item<bool>(), "the same request gives the same samples");
        Assert.False(torch.allclose(first, other), "the condition changes the samples");
        // The plan checks itself against the request; the request refuses two conditionings.
        Assert.Contains("3 samples need 3 brightnesses", Assert.Throws<DiffuseException>(() => model.Sample(request with { Conditioning = new BrightnessPlan([1f]) })).Message);
        Assert.Contains("one of Classes, Prompts and Conditioning",
            Assert.Throws<DiffuseException>(() => model.Sample(request with { Classes = ["1"], Conditioning = new BrightnessPlan(bright) })).Message);
    }
}
