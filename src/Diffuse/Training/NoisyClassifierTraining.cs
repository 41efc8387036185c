using Diffuse.Guidance;
using Diffuse.Data;
using Diffuse.Configuration;
using System.Diagnostics;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// Trains a <see cref="NoisyClassifier"/> on x_t drawn from the forward process q(x_t | x_0) of a schedule (Dhariwal
/// &amp; Nichol 2021, arXiv:2105.05233, Sec. 4: the classifier of classifier guidance sees noisy images at every
/// timestep), with cross-entropy and AdamW, and measures it on held-out images, clean and noised.
/// </summary>
public static class NoisyClassifierTraining
{
    /// <summary>One report during training: the step and the mean loss since the last report.</summary>
    public sealed record Progress(int Step, int Steps, double Loss, TimeSpan Elapsed);

    /// <summary>The timesteps at which <see cref="Measure"/> reports the accuracy besides clean and uniform t.</summary>
    public static int[] ReportTimesteps(int numTrainTimesteps) =>
        new[] { numTrainTimesteps / 4, numTrainTimesteps / 2, 3 * numTrainTimesteps / 4 }.Where(t => t > 0).Distinct().ToArray();

    /// <summary>
    /// Trains a new classifier on <paramref name="images"/> [N, C, H, W] in [-1, 1] with <paramref name="labels"/> [N]
    /// (int64). The weights, batches, shifts, timesteps and noise all come from one generator seeded by
    /// <see cref="NoisyClassifierSettings.Seed"/>, so the same data and settings give bitwise the same classifier.
    /// </summary>
    public static NoisyClassifier Train(NoisyClassifierConfig config, Tensor images, Tensor labels, IProgress<Progress>? progress = null,
        int reportEvery = 100, CancellationToken cancel = default)
    {
        config.Validate();
        var s = config.Training;
        Check(config, images, labels);
        var diffusion = new GaussianDiffusion(config.Schedule.ToNoiseSchedule(), PredictionType.Epsilon);
        using var generator = new Generator((ulong)s.Seed);
        var classifier = new NoisyClassifier(config.Encoder, config.NumClasses);
        try
        {
            classifier.ResetParameters(generator);
            classifier.train();
            using var optimizer = optim.AdamW(classifier.parameters(), lr: s.LearningRate, weight_decay: s.WeightDecay);
            long n = images.shape[0];
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int lossCount = 0;
            for (int step = 0; step < s.Steps; step++)
            {
                cancel.ThrowIfCancellationRequested();
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = LearningRate.WarmupCosine(step, s.Steps, Math.Min(100, s.Steps / 10), s.LearningRate);
                using var fence = FinalizerFence.Enter();
                using var scope = NewDisposeScope();
                var index = randint(0, n, [Math.Min(s.BatchSize, n)], dtype: ScalarType.Int64, generator: generator);
                var x0 = images.index_select(0, index);
                if (s.ShiftPixels > 0) x0 = ImageAugmentation.RandomShift(x0, s.ShiftPixels, generator);
                var t = diffusion.SampleTimesteps(index.shape[0], generator);
                var xt = diffusion.QSample(x0, t, Noise.RandnLike(x0, generator));
                var loss = nn.functional.cross_entropy(classifier.forward(xt, t), labels.index_select(0, index));
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new DiffuseException($"classifier training stopped: the loss became {value} at step {step + 1}; lower --lr");
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += value;
                lossCount++;
                NativeMemory.ReleaseFreedEvery(step + 1, 50);
                if (progress is not null && ((step + 1) % reportEvery == 0 || step + 1 == s.Steps))
                {
                    progress.Report(new Progress(step + 1, s.Steps, lossSum / lossCount, clock.Elapsed));
                    lossSum = 0;
                    lossCount = 0;
                }
            }
            classifier.eval();
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The accuracy on <paramref name="images"/> clean (x_0 at t = 0), with t drawn uniformly, and at
    /// <see cref="ReportTimesteps"/>; the noise comes from a generator seeded by <paramref name="seed"/>.
    /// </summary>
    public static ClassifierAccuracy Measure(NoisyClassifier classifier, ClassifierSchedule schedule, Tensor images, Tensor labels, long seed, int batchSize = 500)
    {
        var diffusion = new GaussianDiffusion(schedule.ToNoiseSchedule(), PredictionType.Epsilon);
        classifier.eval();
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed);
        long n = images.shape[0];
        double Accuracy(Func<long, Tensor>? timesteps)
        {
            long correct = 0;
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long count = Math.Min(batchSize, n - start);
                var x0 = images.narrow(0, start, count);
                var t = timesteps?.Invoke(count) ?? zeros([count], ScalarType.Int64);
                var x = timesteps is null ? x0 : diffusion.QSample(x0, t, Noise.RandnLike(x0, generator));
                correct += classifier.forward(x, t).argmax(1).eq(labels.narrow(0, start, count)).sum().item<long>();
            }
            return n == 0 ? 0 : (double)correct / n;
        }
        double clean = Accuracy(null);
        double noisy = Accuracy(count => diffusion.SampleTimesteps(count, generator));
        var at = ReportTimesteps(schedule.NumTrainTimesteps)
            .Select(t => new TimestepAccuracy(t, Accuracy(count => full([count], (long)t, ScalarType.Int64)))).ToArray();
        return new ClassifierAccuracy(n, clean, noisy, at);
    }

    static void Check(NoisyClassifierConfig config, Tensor images, Tensor labels)
    {
        var image = config.Image;
        if (images.dim() != 4 || images.shape[1] != image.Channels || images.shape[2] != image.Height || images.shape[3] != image.Width || images.shape[0] < 1)
            throw new DiffuseException($"training images must be [N >= 1, {image.Channels}, {image.Height}, {image.Width}], got [{string.Join(", ", images.shape)}]");
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0] || labels.dtype != ScalarType.Int64)
            throw new DiffuseException($"training labels must be int64 [{images.shape[0]}], got {labels.dtype} [{string.Join(", ", labels.shape)}]");
        if (labels.min().item<long>() < 0 || labels.max().item<long>() >= config.NumClasses)
            throw new DiffuseException($"training labels must lie in [0, {config.NumClasses})");
    }

    /// <summary>Writes the classifier folder: weights, then config.json, staged so a failure leaves nothing half-written.</summary>
    public static void Save(string directory, NoisyClassifierConfig config, NoisyClassifier classifier) =>
        StagedDirectory.Commit(directory, staging =>
        {
            ModelDirectory.SaveWeights(Path.Combine(staging, NoisyClassifierConfig.WeightsFile), classifier);
            AtomicFile.WriteAllText(Path.Combine(staging, ModelDirectory.ConfigFile), config.ToJson());
        });

    /// <summary>Loads and validates a classifier folder; every problem is a one-line <see cref="DiffuseException"/>.</summary>
    public static (NoisyClassifierConfig Config, NoisyClassifier Classifier) Load(string directory)
    {
        if (File.Exists(directory)) throw new DiffuseException($"classifier '{directory}' is a file; give the folder 'diffuse train-classifier' wrote");
        if (!Directory.Exists(directory)) throw new DiffuseException($"classifier folder '{directory}' does not exist (train one with 'diffuse train-classifier --out {directory}')");
        var configPath = Path.Combine(directory, ModelDirectory.ConfigFile);
        if (!File.Exists(configPath)) throw new DiffuseException($"'{directory}' is not a classifier folder: {ModelDirectory.ConfigFile} is missing");
        var config = NoisyClassifierConfig.FromJson(File.ReadAllText(configPath), configPath);
        var weights = Path.Combine(directory, NoisyClassifierConfig.WeightsFile);
        if (!File.Exists(weights)) throw new DiffuseException($"'{directory}' is not a classifier folder: {NoisyClassifierConfig.WeightsFile} is missing");
        var classifier = new NoisyClassifier(config.Encoder, config.NumClasses);
        try
        {
            ModelDirectory.LoadWeights(weights, classifier);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
        classifier.eval();
        return (config, classifier);
    }
}
