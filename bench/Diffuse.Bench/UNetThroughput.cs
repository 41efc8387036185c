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
        var config = UNetConfig.Preset(preset);
        Console.WriteLine($"threads {torch.get_num_threads()}, preset {preset}");
        using var g = new Generator(0);
        using var model = new UNet2D(config);
        using var shadow = new UNet2D(config);
        model.ResetParameters(g);
        Console.WriteLine($"parameters {model.ParameterCount():N0}");
        var schedulerConfig = new SchedulerConfig();
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(schedulerConfig), PredictionType.Epsilon);
        var spec = new TrainingSpec { Steps = 1000, BatchSize = trainBatch, LearningRate = 1e-3 };
        using var trainer = new Trainer(model, new Ema(model, shadow, 0.999), diffusion, spec);
        var shape = new long[] { trainBatch, config.InChannels, config.ImageSize, config.ImageSize };
        BatchSource batches = (m, n, gen) => rand(shape, generator: gen) * 2 - 1;
        trainer.TrainStep(batches, g); // warm-up
        const int steps = 10;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) trainer.TrainStep(batches, g);
        double trainRate = steps * trainBatch / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"train: {trainRate:F1} images/s (batch {trainBatch}, {clock.Elapsed.TotalSeconds / steps:F2} s/step)");

        model.eval();
        bool bf16 = args.Length > 4 && args[4] == "bf16";
        if (bf16) model.to(ScalarType.BFloat16);
        var dtype = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var scheduler = Schedulers.Create("ddim", schedulerConfig);
        using (no_grad())
        {
            using var warm = model.forward(randn(sampleBatch, config.InChannels, config.ImageSize, config.ImageSize).to(dtype), zeros(sampleBatch, ScalarType.Int64));
        }
        clock.Restart();
        using var x = SamplingLoop.Run((xt, t) => model.forward(xt.to(dtype), t).to(ScalarType.Float32), scheduler, ddimSteps,
            [sampleBatch, config.InChannels, config.ImageSize, config.ImageSize], g);
        double sampleRate = sampleBatch / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"sample: {sampleRate:F2} images/s (DDIM {ddimSteps} steps, batch {sampleBatch}, {dtype}, {clock.Elapsed.TotalSeconds / ddimSteps:F2} s/step)");
        return 0;
    }
}
