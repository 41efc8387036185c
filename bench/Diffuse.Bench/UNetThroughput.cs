using Diffuse.Configuration;
using System.Diagnostics;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Sampling;
using Diffuse.Pipelines;
using Diffuse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Bench;

/// <summary>
/// Training and sampling throughput (images/s) of a U-Net preset on 28x28 grayscale images: the
/// training step of <see cref="Trainer"/> (AdamW, EMA) at a batch size, and the DDIM sampling loop.
/// Usage: throughput [preset] [train-batch] [sample-batch] [ddim-steps] [dtype]
/// </summary>
public static class UNetThroughput
{
    public static int Run(string[] args)
    {
        string preset = args.Length > 0 ? args[0] : "tiny";
        int trainBatch = args.Length > 1 ? int.Parse(args[1]) : 64;
        int sampleBatch = args.Length > 2 ? int.Parse(args[2]) : 250;
        int ddimSteps = args.Length > 3 ? int.Parse(args[3]) : 50;
        var dtype = args.Length > 4 && args[4] == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        var config = UNetConfig.Preset(preset);
        Console.WriteLine($"threads {torch.get_num_threads()}, preset {preset}");
        const int steps = 10;
        double trainRate = TrainImagesPerSecond(config, trainBatch, steps);
        Console.WriteLine($"train: {trainRate:F1} images/s (batch {trainBatch}, {trainBatch / trainRate:F2} s/step)");
        double sampleRate = SampleImagesPerSecond(config, sampleBatch, ddimSteps, dtype);
        Console.WriteLine($"sample: {sampleRate:F2} images/s (DDIM {ddimSteps} steps, batch {sampleBatch}, {dtype}, {sampleBatch / sampleRate / ddimSteps:F2} s/step)");
        return 0;
    }

    /// <summary>Images/s of <see cref="Trainer.TrainStep"/> (AdamW, gradient clipping, EMA) on random images, after one warm-up step.</summary>
    public static double TrainImagesPerSecond(UNetConfig config, int batch, int steps, TrainingPrecision precision = TrainingPrecision.Fp32)
    {
        using var bench = new TrainingBench(config, batch, precision);
        bench.Step(); // warm-up
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) bench.Step();
        return steps * batch / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A <see cref="Trainer"/> of a U-Net preset on random images (seed 0), one <see cref="Step"/> at a time.</summary>
    public sealed class TrainingBench : IDisposable
    {
        private readonly Generator g = new(0);
        private readonly UNet2D model, shadow;
        private readonly UNet2D? working;
        private readonly Trainer trainer;
        private readonly TrainingBatchSource batches;

        public TrainingBench(UNetConfig config, int batch, TrainingPrecision precision)
        {
            model = new UNet2D(config);
            shadow = new UNet2D(config);
            working = precision == TrainingPrecision.Bf16 ? new UNet2D(config) : null;
            model.ResetParameters(g);
            var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig()), PredictionType.Epsilon);
            var spec = new TrainingSpec { Steps = 1000, BatchSize = batch, LearningRate = 1e-3, Precision = precision };
            trainer = new Trainer(model, new Ema(model, shadow, 0.999), diffusion, spec, workingCopy: working);
            var shape = new long[] { batch, config.InChannels, config.ImageSize, config.ImageSize };
            batches = (m, n, gen) => rand(shape, generator: gen) * 2 - 1;
        }

        /// <summary>One optimizer step; returns its loss.</summary>
        public double Step() => trainer.TrainStep(batches, g);

        public void Dispose()
        {
            trainer.Dispose();
            working?.Dispose();
            shadow.Dispose();
            model.Dispose();
            g.Dispose();
        }
    }

    /// <summary>
    /// Images/s of the DDIM loop of <paramref name="ddimSteps"/> network calls on a batch, with the
    /// network in <paramref name="dtype"/> and the scheduler in float32, after one warm-up forward pass.
    /// </summary>
    public static double SampleImagesPerSecond(UNetConfig config, int batch, int ddimSteps, ScalarType dtype)
    {
        using var g = new Generator(0);
        using var model = new UNet2D(config);
        model.ResetParameters(g);
        model.eval();
        if (dtype != ScalarType.Float32) model.to(dtype);
        var scheduler = Schedulers.Create("ddim", new SchedulerConfig());
        using (no_grad())
        {
            using var warm = model.forward(randn(batch, config.InChannels, config.ImageSize, config.ImageSize).to(dtype), zeros(batch, ScalarType.Int64));
        }
        var clock = Stopwatch.StartNew();
        using var x = SamplingLoop.Run((xt, t) => model.forward(xt.to(dtype), t).to(ScalarType.Float32), scheduler, ddimSteps,
            [batch, config.InChannels, config.ImageSize, config.ImageSize], g);
        return batch / clock.Elapsed.TotalSeconds;
    }
}
