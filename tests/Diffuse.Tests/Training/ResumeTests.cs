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

public class ResumeTests
{
    static readonly MlpConfig Tiny = new() { HiddenDim = 16, Blocks = 2, TimeEmbedDim = 8 };

    static byte[] Bytes(nn.Module module) =>
        module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.detach().contiguous().flatten().data<float>().ToArray())
            .SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>Batches that depend only on their index, as the image data order does.</summary>
    static TrainingBatch Batch(long micro, int n, Generator augment)
    {
        using var g = new Generator((ulong)(1000 + micro));
        var x = randn([n, 2], generator: g);
        return x + 0.01 * randn([n, 2], generator: augment); // and some per-step randomness from the run's generator
    }

    sealed class Run : IDisposable
    {
        public readonly MlpDenoiser Model = new(Tiny), Shadow = new(Tiny);
        public readonly MlpDenoiser? Working;
        public readonly Generator Generator;
        public readonly Trainer Trainer;

        public Run(TrainingSpec spec, ulong initSeed, int timesteps = 100)
        {
            using (var init = new Generator(initSeed)) Initialization.Reset(Model, init);
            Generator = new Generator(7);
            var scheduler = new SchedulerConfig { NumTrainTimesteps = timesteps };
            var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(scheduler), PredictionType.Epsilon);
            // bf16: the working copy starts from other weights; the trainer refreshes it from the master weights every step.
            Working = spec.Precision == TrainingPrecision.Bf16 ? new MlpDenoiser(Tiny) : null;
            Trainer = new Trainer(Model, new Ema(Model, Shadow, spec.EmaDecay), diffusion, spec, workingCopy: Working);
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Model.Dispose();
            Shadow.Dispose();
            Working?.Dispose();
            Generator.Dispose();
        }
    }

    [Theory]
    [InlineData(LrSchedule.Cosine, 1, TrainingPrecision.Fp32)]
    [InlineData(LrSchedule.Constant, 2, TrainingPrecision.Fp32)]
    [InlineData(LrSchedule.Cosine, 1, TrainingPrecision.Bf16)]
    [InlineData(LrSchedule.Constant, 2, TrainingPrecision.Bf16)]
    public void StoppingAndResumingGivesBitwiseTheSameWeightsAsOneRun(LrSchedule schedule, int accumulation, TrainingPrecision precision)
    {
        const int n = 12;
        var spec = new TrainingSpec { Steps = 2 * n, BatchSize = 32, GradientAccumulation = accumulation, WarmupSteps = 3, LrSchedule = schedule, EmaDecay = 0.9, WeightDecay = 0.01, Precision = precision };
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "checkpoint.safetensors");

        using var straight = new Run(spec, initSeed: 1);
        straight.Trainer.Run(Batch, straight.Generator);

        using (var first = new Run(spec, initSeed: 1))
        {
            first.Trainer.Run(Batch, first.Generator, untilStep: n);
            Assert.Equal(n, first.Trainer.Step);
            TrainCheckpoint.Save(path, first.Trainer, first.Generator, "fp");
            // Further steps after the checkpoint must not leak into the resumed run.
            first.Trainer.Run(Batch, first.Generator, untilStep: n + 3);
        }
        // A fresh process: other initial weights and a fresh generator, all overwritten by the checkpoint.
        using var resumed = new Run(spec, initSeed: 99);
        TrainCheckpoint.Load(path, resumed.Trainer, resumed.Generator, "fp");
        Assert.Equal(n, resumed.Trainer.Step);
        resumed.Trainer.Run(Batch, resumed.Generator);

        Assert.Equal(2 * n, resumed.Trainer.Step);
        Assert.Equal(Bytes(straight.Model), Bytes(resumed.Model));
        Assert.Equal(Bytes(straight.Shadow), Bytes(resumed.Shadow));
        Assert.Equal(straight.Trainer.Ema.Updates, resumed.Trainer.Ema.Updates);
    }

    [Fact]
    public void ALossAwareRunResumesExactlyAndItsSamplersHistoryMatters()
    {
        // 5 timesteps, 32 draws a step: the history is full after a few steps, so from then on the draws follow it.
        const int n = 8;
        var spec = new TrainingSpec { Steps = 2 * n, BatchSize = 32, WarmupSteps = 2, EmaDecay = 0.9, TimestepSampler = TimestepSampling.LossAware };
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "checkpoint.safetensors");

        using var straight = new Run(spec, initSeed: 1, timesteps: 5);
        straight.Trainer.Run(Batch, straight.Generator);

        using (var first = new Run(spec, initSeed: 1, timesteps: 5))
        {
            first.Trainer.Run(Batch, first.Generator, untilStep: n);
            Assert.True(first.Trainer.Objective.TimestepSampler!.WarmedUp);
            TrainCheckpoint.Save(path, first.Trainer, first.Generator, "fp");
        }
        using var resumed = new Run(spec, initSeed: 99, timesteps: 5);
        TrainCheckpoint.Load(path, resumed.Trainer, resumed.Generator, "fp");
        resumed.Trainer.Run(Batch, resumed.Generator);
        Assert.Equal(Bytes(straight.Model), Bytes(resumed.Model));
        Assert.Equal(straight.Trainer.Objective.TimestepSampler!.Probabilities(), resumed.Trainer.Objective.TimestepSampler!.Probabilities());

        // Everything restored but the history: the run differs.
        using var forgetful = new Run(spec, initSeed: 99, timesteps: 5);
        TrainCheckpoint.Load(path, forgetful.Trainer, forgetful.Generator, "fp");
        var empty = new LossAwareTimestepSampler(5).State();
        forgetful.Trainer.Objective.TimestepSampler!.Restore(empty);
        forgetful.Trainer.Run(Batch, forgetful.Generator);
        Assert.NotEqual(Bytes(straight.Model), Bytes(forgetful.Model));

        // A uniform run refuses the checkpoint of a loss-aware one, and the other way round, in one line.
        using var uniform = new Run(spec with { TimestepSampler = TimestepSampling.Uniform }, initSeed: 2, timesteps: 5);
        Assert.Contains("uniformly", Assert.Throws<DiffuseException>(() => TrainCheckpoint.Load(path, uniform.Trainer, uniform.Generator, "fp")).Message);
        TrainCheckpoint.Save(path, uniform.Trainer, uniform.Generator, "fp");
        using var aware = new Run(spec, initSeed: 2, timesteps: 5);
        Assert.Contains("loss history", Assert.Throws<DiffuseException>(() => TrainCheckpoint.Load(path, aware.Trainer, aware.Generator, "fp")).Message);
    }

    [Fact]
    public void ResumingWithoutTheOptimizerStateWouldDiffer()
    {
        // The exactness above is not an accident of a forgiving setup: dropping the optimizer's
        // moments (a fresh AdamW) changes the weights.
        var spec = new TrainingSpec { Steps = 10, BatchSize = 16, WarmupSteps = 0, LrSchedule = LrSchedule.Constant };
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "c.safetensors");
        using var straight = new Run(spec, 1);
        straight.Trainer.Run(Batch, straight.Generator);
        using var first = new Run(spec, 1);
        first.Trainer.Run(Batch, first.Generator, untilStep: 5);
        using var partial = new Run(spec, 1);
        using (no_grad())
            foreach (var (name, t) in partial.Model.state_dict()) t.copy_(first.Model.state_dict()[name]);
        partial.Generator.set_state(first.Generator.get_state());
        partial.Trainer.Step = 5;
        partial.Trainer.Run(Batch, partial.Generator);
        Assert.NotEqual(Bytes(straight.Model), Bytes(partial.Model));
    }

    [Fact]
    public void ACheckpointFromOtherSettingsIsRefused()
    {
        var spec = new TrainingSpec { Steps = 4, BatchSize = 8 };
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "c.safetensors");
        using var run = new Run(spec, 1);
        run.Trainer.Run(Batch, run.Generator, untilStep: 2);
        TrainCheckpoint.Save(path, run.Trainer, run.Generator, "settings-a");
        Assert.Equal(2, TrainCheckpoint.StepOf(path));

        using var other = new Run(spec, 2);
        var before = Bytes(other.Model);
        var error = Assert.Throws<DiffuseException>(() => TrainCheckpoint.Load(path, other.Trainer, other.Generator, "settings-b"));
        Assert.Contains("other settings", error.Message);
        Assert.Equal(before, Bytes(other.Model));
        Assert.Equal(0, other.Trainer.Step);
    }

    [Fact]
    public void ATruncatedCheckpointIsAOneLineErrorAndChangesNothing()
    {
        var spec = new TrainingSpec { Steps = 4, BatchSize = 8 };
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "c.safetensors");
        using var run = new Run(spec, 1);
        run.Trainer.Run(Batch, run.Generator, untilStep: 2);
        TrainCheckpoint.Save(path, run.Trainer, run.Generator, "fp");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        using var other = new Run(spec, 2);
        var before = Bytes(other.Model);
        var error = Assert.Throws<DiffuseException>(() => TrainCheckpoint.Load(path, other.Trainer, other.Generator, "fp"));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(before, Bytes(other.Model));
        Assert.Null(TrainCheckpoint.StepOf(path));
    }
}
