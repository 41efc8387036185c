using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Tests.IO;
using Diffuse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Training;

public class EmaAndScheduleTests
{
    static readonly MlpConfig Tiny = new() { HiddenDim = 8, Blocks = 1, TimeEmbedDim = 4 };

    static double[] Values(nn.Module module) =>
        module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.detach().flatten().to(ScalarType.Float64).data<double>().ToArray()).ToArray();

    [Fact]
    public void UpdateFollowsTheWarmedUpDecay()
    {
        const double decay = 0.3;
        using var model = new MlpDenoiser(Tiny);
        using var shadow = new MlpDenoiser(Tiny);
        using var g = new Generator(1);
        Initialization.Reset(model, g);
        Initialization.Reset(shadow, g);
        var ema = new Ema(model, shadow, decay);
        var expected = Values(model);
        Assert.Equal(expected, Values(shadow));

        for (int n = 0; n < 6; n++)
        {
            using (no_grad())
                foreach (var p in model.parameters()) p.add_(randn(p.shape, generator: g));
            double d = Math.Min(decay, (1.0 + n) / (10.0 + n));
            Assert.Equal(d, ema.CurrentDecay, 12);
            var param = Values(model);
            for (int i = 0; i < expected.Length; i++) expected[i] = d * expected[i] + (1 - d) * param[i];

            ema.Update();

            var actual = Values(shadow);
            // The shadow is float32; the expectation is float64.
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6 * Math.Max(1, Math.Abs(expected[i])));
        }
        // After three updates the warmup (4/13 > 0.3) no longer binds.
        Assert.Equal(decay, ema.CurrentDecay);
    }

    [Fact]
    public void AShadowOfAnotherShapeOrABadDecayIsAnError()
    {
        using var model = new MlpDenoiser(Tiny);
        using var other = new MlpDenoiser(Tiny with { Blocks = 2 });
        using var shadow = new MlpDenoiser(Tiny);
        Assert.Throws<DiffuseException>(() => new Ema(model, other, 0.9));
        Assert.Throws<DiffuseException>(() => new Ema(model, shadow, 1.0));
        Assert.Throws<DiffuseException>(() => new Ema(model, shadow, -0.1));
        Assert.Throws<DiffuseException>(() => new Ema(model, shadow, double.NaN));
    }

    [Fact]
    public void WarmupCosineRisesLinearlyThenFallsToATenthOfThePeak()
    {
        const int total = 200, warmup = 20;
        const double peak = 0.01;
        var lr = Enumerable.Range(0, total + 1).Select(s => LearningRate.WarmupCosine(s, total, warmup, peak)).ToArray();

        Assert.Equal(peak / warmup, lr[0], 15);
        Assert.Equal(peak, lr[warmup - 1], 15);
        Assert.Equal(peak, lr[warmup], 15);
        Assert.Equal(0.1 * peak, lr[total], 15);
        Assert.Equal(0.55 * peak, lr[warmup + (total - warmup) / 2], 15);
        for (int s = 1; s < warmup; s++) Assert.Equal(peak / warmup, lr[s] - lr[s - 1], 12);
        for (int s = warmup + 1; s <= total; s++) Assert.True(lr[s] < lr[s - 1], $"lr rises at step {s}");
        Assert.Equal(0.1 * peak, LearningRate.WarmupCosine(total + 50, total, warmup, peak), 15);
        Assert.All(lr[warmup..], v => Assert.InRange(v, 0.1 * peak - 1e-15, peak + 1e-15));
    }

    [Fact]
    public void WarmupCosineWithoutWarmupStartsAtThePeak()
    {
        Assert.Equal(0.5, LearningRate.WarmupCosine(0, 100, 0, 0.5), 15);
        Assert.Equal(0.05, LearningRate.WarmupCosine(100, 100, 0, 0.5), 15);
        // A warmup as long as the run leaves the peak at its end and nothing to decay.
        Assert.Equal(0.5, LearningRate.WarmupCosine(9, 10, 10, 0.5), 15);
    }

    static Trainer TinyTrainer(MlpDenoiser model, MlpDenoiser shadow, int steps)
    {
        var scheduler = new SchedulerConfig { NumTrainTimesteps = 50 };
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(scheduler), PredictionType.Epsilon);
        var spec = new TrainingSpec { Steps = steps, BatchSize = 16, WarmupSteps = 2 };
        return new Trainer(model, new Ema(model, shadow, spec.EmaDecay), diffusion, spec);
    }

    [Fact]
    public void TrainerStopsOnANaNLossWithoutChangingTheWeights()
    {
        using var model = new MlpDenoiser(Tiny);
        using var shadow = new MlpDenoiser(Tiny);
        using var g = new Generator(2);
        Initialization.Reset(model, g);
        var before = Values(model);
        var trainer = TinyTrainer(model, shadow, 5);
        int batches = 0;

        var error = Assert.Throws<DiffuseException>(() => trainer.Run((_, n, _) => { batches++; return full(n, 2, float.NaN); }, g));

        Assert.Contains("loss", error.Message);
        Assert.Contains("NaN", error.Message);
        Assert.Contains("step 1", error.Message);
        Assert.Equal(1, batches);
        Assert.Equal(before, Values(model));
        Assert.Equal(before, Values(shadow));
    }

    [Fact]
    public void TrainerReportsEveryStepAndReturnsAFiniteLoss()
    {
        using var model = new MlpDenoiser(Tiny);
        using var shadow = new MlpDenoiser(Tiny);
        using var g = new Generator(3);
        Initialization.Reset(model, g);
        var before = Values(model);
        var reports = new List<TrainProgress>();

        double loss = TinyTrainer(model, shadow, 4).Run((_, n, gen) => randn(new[] { n, 2L }, generator: gen), g, new SyncProgress<TrainProgress>(reports.Add));

        Assert.True(double.IsFinite(loss) && loss > 0);
        Assert.Equal([1, 2, 3, 4], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal(4, r.TotalSteps));
        Assert.NotEqual(before, Values(model));
    }

    [Fact]
    public void PointTrainingWritesNothingWhenTheLossDiverges()
    {
        using var folder = new TempFolder();
        var outDir = Path.Combine(folder.Path, "model");
        // A learning rate of 1e30 makes AdamW's first step throw the weights to ~1e30, and the next loss overflows.
        var template = new ModelConfig
        {
            Model = Tiny,
            Scheduler = new SchedulerConfig { NumTrainTimesteps = 50, ClipSample = false },
            Training = new TrainingSpec { Steps = 10, BatchSize = 16, WarmupSteps = 0, LearningRate = 1e30 },
        };

        var error = Assert.Throws<DiffuseException>(() => PointTraining.TrainAndSave("moons", outDir, template, force: false));

        Assert.Contains("loss", error.Message);
        var left = Directory.EnumerateFileSystemEntries(folder.Path, "*", SearchOption.AllDirectories).ToArray();
        Assert.True(left.Length == 0 || (left.Length == 1 && left[0] == outDir), $"left behind: {string.Join(", ", left)}");
    }
}
