using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>What a finished training run reports.</summary>
public sealed record TrainOutcome(string Directory, double FinalLoss, long Parameters, TimeSpan Elapsed);

/// <summary>
/// The whole job behind <c>diffuse train</c> for 2-D data: check the output folder, measure the
/// data's normalisation, train an MLP denoiser with EMA, and write the model directory.
/// Everything random flows from <see cref="TrainingSpec.Seed"/>.
/// </summary>
public static class PointTraining
{
    /// <summary>Points drawn once to measure the data's mean and spread.</summary>
    public const int NormalisationSamples = 100_000;

    public static TrainOutcome TrainAndSave(string dataName, string outDir, ModelConfig template, bool force,
        IProgress<TrainProgress>? progress = null, CancellationToken cancel = default, Action<string>? log = null)
    {
        Toy2D.Validate(dataName);
        template.Training.Validate();
        template.Network.Validate();
        NetworkMemory.Check(template.Network, ImageTraining.TrainingCopies, $"'{outDir}'", "training it");
        ModelDirectory.PrepareForWrite(outDir, force, log);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long seed = template.Training.Seed;

        DataSpec data;
        using (var g = new Generator((ulong)(seed ^ 0x5eed_da7a)))
        using (var probe = Toy2D.Sample(dataName, NormalisationSamples, g))
        using (var mean = probe.mean([0]))
        using (var centred = probe - mean)
        using (var std = centred.std())
        {
            data = new DataSpec { Name = dataName, Dim = 2, Mean = mean.data<float>().ToArray(), Scale = std.item<float>() };
        }
        var config = template with { Data = data, Network = template.Network.ForPoints(data.Dim) };
        config.Validate();

        using var network = NetworkTypes.Build(config.Network);
        using var shadow = NetworkTypes.Build(config.Network);
        using var generator = new Generator((ulong)seed);
        network.ResetParameters(generator);
        var ema = new Ema(network, shadow, config.Training.EmaDecay);
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(config.Scheduler), config.Scheduler.PredictionType);
        using var trainer = new Trainer(network, ema, diffusion, config.Training, config.Sde);
        using var meanTensor = tensor(data.Mean);
        double finalLoss = trainer.Run(
            (_, n, g) => (Toy2D.Sample(dataName, n, g) - meanTensor) / data.Scale,
            generator, progress, cancel);

        StagedDirectory.Commit(outDir, staging =>
        {
            ModelDirectory.SaveWeights(Path.Combine(staging, ModelDirectory.ModelFile), network);
            ModelDirectory.SaveWeights(Path.Combine(staging, ModelDirectory.EmaFile), shadow);
            ModelDirectory.WriteConfig(staging, config.ToJson());
        });
        return new TrainOutcome(outDir, finalLoss, network.ParameterCount(), clock.Elapsed);
    }
}
