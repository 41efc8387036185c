using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Training;

/// <summary>bf16 training (<see cref="TrainingPrecision.Bf16"/>): bfloat16 passes on a working copy, float32 master weights.</summary>
public class MixedPrecisionTests
{
    static readonly MlpConfig Tiny = new() { HiddenDim = 32, Blocks = 2, TimeEmbedDim = 8 };

    static TrainingBatch Batch(long micro, int n, Generator g)
    {
        using var fixedG = new Generator((ulong)(500 + micro));
        // Two clusters, so that the network has something to learn.
        var centres = (randint(0, 2, [n, 1], generator: fixedG) * 2 - 1).to(ScalarType.Float32);
        return centres * tensor(new float[] { 1.5f, -0.5f }) + 0.1f * randn([n, 2], generator: fixedG);
    }

    sealed record Outcome(float[] Weights, double FirstLoss, double LastLoss, ScalarType[] MasterTypes, ScalarType[] WorkingTypes);

    static Outcome Train(TrainingPrecision precision, int steps)
    {
        using var model = new MlpDenoiser(Tiny);
        using var shadow = new MlpDenoiser(Tiny);
        using var working = precision == TrainingPrecision.Bf16 ? new MlpDenoiser(Tiny) : null;
        using (var init = new Generator(3)) Initialization.Reset(model, init);
        var spec = new TrainingSpec { Steps = steps, BatchSize = 64, WarmupSteps = 0, LrSchedule = LrSchedule.Constant, LearningRate = 3e-3, Precision = precision };
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 100 }), PredictionType.Epsilon);
        using var trainer = new Trainer(model, new Ema(model, shadow, 0.9), diffusion, spec, workingCopy: working);
        using var g = new Generator(11);
        double first = 0, last = 0;
        for (int i = 0; i < steps; i++)
        {
            double loss = trainer.TrainStep(Batch, g);
            if (i < 5) first += loss / 5;
            if (i >= steps - 5) last += loss / 5;
        }
        var weights = model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();
        return new Outcome(weights, first, last, model.parameters().Select(p => p.dtype).ToArray(),
            working?.parameters().Select(p => p.dtype).ToArray() ?? []);
    }

    [Fact]
    public void Bf16TrainingKeepsFloat32MasterWeightsAndFollowsTheFp32Run()
    {
        const int steps = 60;
        var fp32 = Train(TrainingPrecision.Fp32, steps);
        var bf16 = Train(TrainingPrecision.Bf16, steps);

        Assert.All(bf16.MasterTypes, t => Assert.Equal(ScalarType.Float32, t));
        Assert.All(bf16.WorkingTypes, t => Assert.Equal(ScalarType.BFloat16, t));
        // The master weights are not bfloat16 values: most carry more than bfloat16's 8 significant bits.
        Assert.True(bf16.Weights.Count(w => w != (float)(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(w) & unchecked((int)0xFFFF0000)))) > bf16.Weights.Length / 2);

        // Both learn (the loss falls well below its start), and bf16 ends near fp32, though not on the same weights.
        Assert.True(fp32.LastLoss < 0.8 * fp32.FirstLoss, $"fp32 {fp32.FirstLoss} -> {fp32.LastLoss}");
        Assert.True(bf16.LastLoss < 0.8 * bf16.FirstLoss, $"bf16 {bf16.FirstLoss} -> {bf16.LastLoss}");
        Assert.InRange(bf16.LastLoss / fp32.LastLoss, 0.8, 1.25);
        double diff = Math.Sqrt(fp32.Weights.Zip(bf16.Weights).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)));
        double norm = Math.Sqrt(fp32.Weights.Sum(w => (double)w * w));
        Assert.True(diff > 0, "bf16 training gave fp32's weights exactly: the working copy was not used");
        Assert.True(diff < 0.1 * norm, $"bf16 weights are {diff / norm:P1} away from fp32's");
    }

    [Theory]
    [InlineData(TrainingPrecision.Fp32)]
    [InlineData(TrainingPrecision.Bf16)]
    public void TrainingStepsLeaveTheLiveTensorCountFlat(TrainingPrecision precision)
    {
        var stats = DisposeScopeManager.Statistics;
        using var model = new MlpDenoiser(Tiny);
        using var shadow = new MlpDenoiser(Tiny);
        using var working = precision == TrainingPrecision.Bf16 ? new MlpDenoiser(Tiny) : null;
        var spec = new TrainingSpec { Steps = 20, BatchSize = 16, GradientAccumulation = 2, Precision = precision };
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 10 }), PredictionType.Epsilon);
        using var trainer = new Trainer(model, new Ema(model, shadow, 0.9), diffusion, spec, workingCopy: working);
        using var g = new Generator(1);
        trainer.TrainStep(Batch, g);
        trainer.TrainStep(Batch, g); // AdamW's state and the gradients exist from here on
        long live = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 10; i++)
        {
            trainer.TrainStep(Batch, g);
            Assert.Equal(live, stats.ThreadTotalLiveCount);
        }
    }

    [Fact]
    public void TheWorkingCopyIsRequiredByBf16AndOnlyByIt()
    {
        using var model = new MlpDenoiser(Tiny);
        using var shadow = new MlpDenoiser(Tiny);
        using var other = new MlpDenoiser(Tiny with { HiddenDim = 16 });
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 10 }), PredictionType.Epsilon);
        var fp32 = new TrainingSpec { Steps = 1, BatchSize = 4 };
        var bf16 = fp32 with { Precision = TrainingPrecision.Bf16 };
        Assert.Throws<ArgumentException>(() => new Trainer(model, new Ema(model, shadow, 0.9), diffusion, bf16));
        Assert.Throws<ArgumentException>(() => new Trainer(model, new Ema(model, shadow, 0.9), diffusion, bf16, workingCopy: other));
        Assert.Throws<ArgumentException>(() => new Trainer(model, new Ema(model, shadow, 0.9), diffusion, fp32, workingCopy: shadow));
    }

    [Theory]
    [InlineData(TrainingPrecision.Fp32)]
    [InlineData(TrainingPrecision.Bf16)]
    public void ConditionedStepsRunOnTheNetworkOfThePrecision(TrainingPrecision precision)
    {
        // A conditioned batch's condition must reach the network that runs the pass: in bf16 the bfloat16 working copy (fed
        // x_t in bfloat16), and the master weights must still learn.
        Diffuse.Tests.Models.ProbeConfig.Register();
        var config = new Diffuse.Tests.Models.ProbeConfig { Classes = 3 };
        using var model = new Diffuse.Tests.Models.ProbeNetwork(config);
        using var shadow = new Diffuse.Tests.Models.ProbeNetwork(config);
        using var working = precision == TrainingPrecision.Bf16 ? new Diffuse.Tests.Models.ProbeNetwork(config) : null;
        var spec = new TrainingSpec { Steps = 4, BatchSize = 4, Precision = precision };
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 10 }), PredictionType.Epsilon);
        using var trainer = new Trainer(model, new Ema(model, shadow, 0.9), diffusion, spec, workingCopy: working);
        using var g = new Generator(1);
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        trainer.TrainStep((micro, size, gen) => new TrainingBatch(randn([size, 1, 4, 4], generator: gen), new Condition { ClassLabels = labels }), g);

        var ran = precision == TrainingPrecision.Bf16 ? working! : model;
        var idle = precision == TrainingPrecision.Bf16 ? model : null;
        var dtype = precision == TrainingPrecision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var call = Assert.Single(ran.Calls);
        Assert.Equal(dtype, call.Dtype);
        Assert.Same(labels, call.Condition.ClassLabels);
        if (idle is not null) Assert.Empty(idle.Calls);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.Contains(model.parameters().Zip(before), p => !p.First.detach().allclose(p.Second, 0, 0));
        foreach (var t in before) t.Dispose();
    }
}
