using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Schedules;
using Diffuse.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Guidance;

/// <summary>
/// The sampling-conditioning contract: a model validates a plan once, then asks it for each batch's denoiser; the plans
/// of the built-in kinds refuse models they do not fit, and classifier guidance wraps any plan.
/// </summary>
public class SamplingPlanTests
{
    static SamplingPlanTests() => ProbeConfig.Register();

    const ulong InitSeed = 11;

    static ImageModel Model(int? classes = null, int batchSize = 2)
    {
        var config = new ModelConfig
        {
            Network = new ProbeConfig { Hidden = 8, Classes = classes },
            Scheduler = new SchedulerConfig { NumTrainTimesteps = 20 },
            Data = new DataSpec { Name = "p", Dim = 16, Mean = [], Image = new ImageSpec { Channels = 1, Height = 4, Width = 4, ClassNames = classes is int k ? [.. Enumerable.Range(0, k).Select(i => $"c{i}")] : [] } },
        };
        var model = ImageModel.FromNetwork(config, NetworkTypes.Build(config.Network), "probe");
        // Seeded weights: libtorch's default initialisation draws from the process's global generator.
        using (var init = new Generator(InitSeed)) model.Network.ResetParameters(init);
        model.Network.eval();
        model.BatchSize = batchSize;
        return model;
    }

    /// <summary>Records what the model asks of it and denoises with the model's own network.</summary>
    sealed class RecordingPlan : ISamplingConditioning
    {
        public List<long> Validated { get; } = [];
        public List<(long Start, long Size, long[] Shape)> Batches { get; } = [];

        public void Validate(ModelConfig config, string directory, long n) => Validated.Add(n);

        public Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch)
        {
            Batches.Add((batch.Start, batch.Size, batch.Shape));
            return (x, t) => denoise(new DenoiserInput(x, t));
        }
    }

    [Fact]
    public void AModelValidatesAPlanOnceAndAsksItForEachBatchsDenoiser()
    {
        using var model = Model();
        var plan = new RecordingPlan();
        var scheduler = model.CreateScheduler("ddim");
        using (var g = new Generator(1))
        using (var planned = model.Sample(5, scheduler, 3, g, plan))
        using (var g2 = new Generator(1))
        using (var plain = model.Sample(5, scheduler, 3, g2))
            Assert.Equal(plain.data<float>().ToArray(), planned.data<float>().ToArray()); // the same network, the same draws
        Assert.Equal([5L], plan.Validated);
        Assert.Equal([(0L, 2L), (2L, 2L), (4L, 1L)], plan.Batches.Select(b => (b.Start, b.Size)));
        Assert.Equal([1L, 1, 4, 4], plan.Batches[2].Shape);
    }

    [Fact]
    public void ThePlansRefuseModelsTheyDoNotFitInOneLine()
    {
        using var unconditional = Model();
        var scheduler = unconditional.CreateScheduler("ddim");
        using var g = new Generator(1);
        Assert.Contains("takes no classes", Assert.Throws<DiffuseException>(() => unconditional.Sample(2, scheduler, 2, g, Conditioning.Single(2, 0))).Message);
        Assert.Contains("takes no prompts", Assert.Throws<DiffuseException>(() => unconditional.Sample(2, scheduler, 2, g, TextConditioning.Single(2, "a"))).Message);
        using var conditional = Model(classes: 3);
        Assert.Contains("need 2 labels", Assert.Throws<DiffuseException>(() => conditional.Sample(2, scheduler, 2, g, new Conditioning([0]))).Message);
        var guidance = new ClassifierGuidance((x, _) => x.flatten(1).narrow(1, 0, 3), NoiseSchedule.FromConfig(unconditional.Config.Scheduler),
            PredictionType.Epsilon, [0, 1, 2], 1.0, 1);
        Assert.Contains("need 2 labels for classifier guidance", Assert.Throws<DiffuseException>(() => unconditional.Sample(2, scheduler, 2, g, guidance.Over())).Message);
        Assert.Contains("need 2 labels for classifier guidance", Assert.Throws<DiffuseException>(() => conditional.Sample(2, scheduler, 2, g, guidance.Over(Conditioning.Single(2, 1)))).Message);
    }

    [Fact]
    public void ClassifierGuidanceWrapsAnyPlan()
    {
        using var model = Model(classes: 3);
        var scheduler = model.CreateScheduler("ddim");
        var classes = Conditioning.Single(3, 2, guidanceScale: 2);
        Tensor Draw(ISamplingConditioning? plan)
        {
            using var g = new Generator(7);
            return model.Sample(3, scheduler, 3, g, plan);
        }
        // A classifier whose log-probability of class 0 rises with the pixels' sum pulls every pixel up.
        ClassifierGuidance Guide(double scale) => new((x, _) => cat([x.flatten(1).sum(1, keepdim: true), zeros(x.shape[0], 1)], 1),
            NoiseSchedule.FromConfig(model.Config.Scheduler), PredictionType.Epsilon, [0, 0, 0], scale, 1);
        using var plain = Draw(classes);
        using var unguided = Draw(Guide(0).Over(classes));
        using var guided = Draw(Guide(50).Over(classes));
        using var unconditional = Draw(null);
        Assert.Equal(plain.data<float>().ToArray(), unguided.data<float>().ToArray()); // scale 0 is the plan itself
        Assert.True(guided.mean().item<float>() > plain.mean().item<float>() + 1e-3, "classifier guidance moves the samples");
        Assert.False(plain.allclose(unconditional), "the plan inside the guidance still gives the labels");
    }
}
