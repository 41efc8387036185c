using Diffuse.Training;
using Diffuse.Configuration;
using System.Diagnostics;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Schedules;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse train-classifier</c>: the noise-aware classifier of classifier guidance.</summary>
public sealed class TrainClassifierCommand : ICommand
{
    public string Name => "train-classifier";
    public string Summary => "train a noise-aware classifier p(y | x_t) for classifier guidance (sample/eval --classifier)";
    public string Help => """
        diffuse train-classifier --data mnist --out runs/mnist-clf [--steps 1500] [--schedule-from runs/mnist]

        Trains the encoder half of a small U-Net (timestep embedding, residual blocks, a pooled linear head) on images
        noised by the forward process q(x_t | x_0) of a noise schedule at t drawn uniformly (Dhariwal & Nichol 2021),
        reports its accuracy on held-out images clean and noised, and writes DIR/config.json (schedule, image size,
        channels, class names, accuracy) and DIR/classifier.safetensors, staged so that a failure leaves nothing.

          --data NAME          mnist | fashion-mnist | a folder of MNIST IDX files | a folder with one sub-folder per class
          --out DIR            a new or empty folder (refused otherwise, unless --force)
          --schedule-from DIR  take the noise schedule of this model folder (the models it will guide)
          --schedule NAME      linear | scaled_linear | cosine | sigmoid (default linear, the models' default)
          --timesteps T        training timesteps of the schedule (default 1000)
          --steps N            AdamW steps (default 1500)
          --batch-size N       images per step (default 128)
          --lr X               peak learning rate, warmup then cosine (default 0.002)
          --base-channels N    channels of the first level; the levels have 1x, 2x, 2x (default 16)
          --seed S             seed of the weights, batches, shifts, timesteps and noise (default 0)
          --val-fraction F     share of the images held out to measure the classifier (default 0.1)
          --image-size N       resize images to N x N (default: the data's, 32 for folders)
          --channels C         1 or 3 (default: the data's)
          --max-images N       use at most N images (quick runs)
          --data-dir DIR       an existing copy of mnist / fashion-mnist
          --cache-dir DIR      dataset cache (default ~/.cache/diffuse)
          --force              replace --out when it is not empty
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv,
            ["data", "out", "schedule-from", "schedule", "timesteps", "steps", "batch-size", "lr", "base-channels", "seed", "val-fraction", "image-size", "channels",
             "max-images", "data-dir", "cache-dir"], ["force"]);
        string data = a.Require("data");
        string outDir = a.Require("out");
        try
        {
            LabelledImageFolder.CheckTarget(outDir, a.Has("force"));
        }
        catch (DiffuseException e)
        {
            throw new UsageException($"--out {e.Message}");
        }
        var schedule = Schedule(a);
        var settings = new NoisyClassifierSettings
        {
            Steps = a.Int("steps", 1500, 1, 10_000_000),
            BatchSize = a.Int("batch-size", 128, 1, 100_000),
            LearningRate = a.Double("lr", 2e-3, 0, minExclusive: true),
            Seed = a.Long("seed", 0),
            ValidationFraction = a.Double("val-fraction", 0.1, 0, minExclusive: true),
        };
        if (settings.ValidationFraction >= 1) throw new UsageException($"--val-fraction must be below 1, got {settings.ValidationFraction}");
        int baseChannels = a.Int("base-channels", 16, 8, 1024);
        if (baseChannels % 8 != 0) throw new UsageException($"--base-channels must be a multiple of 8, got {baseChannels}");
        var load = new ImageLoadOptions
        {
            ImageSize = a.Get("image-size") is null ? null : a.Int("image-size", 0, 4, 1024),
            Channels = a.Get("channels") is null ? null : a.Int("channels", 1, 1, 3) is var c && c == 2 ? throw new UsageException("--channels must be 1 or 3, got 2") : c,
            DataDir = a.Get("data-dir"),
            CacheDir = a.Get("cache-dir"),
            MaxImages = a.Get("max-images") is null ? null : a.Int("max-images", 0, 2),
        };

        using var dataset = ImageDatasets.Load(data, load, line => Console.Error.WriteLine($"warning: {line}"));
        if (!dataset.IsLabelled)
            throw new DiffuseException($"'{data}' has no class labels; a classifier needs labelled data (mnist, fashion-mnist, or one sub-folder per class)");
        if (dataset.ClassNames.Count < 2) throw new DiffuseException($"'{data}' has {dataset.ClassNames.Count} class; a classifier needs at least 2");
        if (dataset.Height != dataset.Width) throw new DiffuseException($"the classifier needs square images, got {dataset.Height}x{dataset.Width}");
        var encoder = Encoder(baseChannels).ForImages(dataset.Channels, dataset.Height);
        using var split = dataset.Split(settings.ValidationFraction, ImageEvaluation.ClassifierSplitSeed);
        var config = new NoisyClassifierConfig
        {
            Encoder = encoder,
            Schedule = schedule,
            Data = data,
            Image = new ImageSpec
            {
                Channels = dataset.Channels, Height = dataset.Height, Width = dataset.Width, ClassNames = [.. dataset.ClassNames], TrainCount = split.Train.Count,
            },
            Training = settings,
        };
        config.Validate();
        using var trainImages = split.Train.ToImages();
        using var valImages = split.Validation.ToImages();
        var clock = Stopwatch.StartNew();
        using var classifier = ProgressDisplay.Run("train-classifier", settings.Steps, report =>
            NoisyClassifierTraining.Train(config, trainImages, split.Train.Labels,
                new SyncProgress<NoisyClassifierTraining.Progress>(p => report(p.Step, $"loss {p.Loss:F4}")), reportEvery: 10));
        double seconds = clock.Elapsed.TotalSeconds;
        var accuracy = NoisyClassifierTraining.Measure(classifier, schedule, valImages, split.Validation.Labels, settings.Seed + 1);
        NoisyClassifierTraining.Save(outDir, config with { Accuracy = accuracy }, classifier);
        output.WriteLine($"trained a noise-aware classifier on {split.Train.Count} images of {data} ({schedule.Describe()}; {settings.Steps} steps of {settings.BatchSize}, {seconds:F0} s)");
        output.WriteLine(Describe(accuracy, schedule.NumTrainTimesteps));
        output.WriteLine($"wrote {outDir}");
        return Cli.Ok;
    }

    /// <summary>"held-out accuracy (1000 images): clean 98.1%, t ~ U{0..999} 71.0%, t = 250 95.2%, ..."</summary>
    public static string Describe(ClassifierAccuracy accuracy, int timesteps) =>
        $"  held-out accuracy ({accuracy.Images} images): clean {accuracy.Clean:P1}, t ~ U{{0..{timesteps - 1}}} {accuracy.Noisy:P1}, " +
        string.Join(", ", accuracy.AtTimesteps.Select(p => $"t = {p.Timestep} {p.Accuracy:P1}"));

    /// <summary>The encoder: three levels (1x, 2x, 2x), one residual block each, attention only in the middle block.</summary>
    static UNetConfig Encoder(int baseChannels) => new()
    {
        BaseChannels = baseChannels, ChannelMult = [1, 2, 2], NumResBlocks = 1, AttentionResolutions = [], NumHeads = 4, GroupNormGroups = 8,
    };

    static ClassifierSchedule Schedule(Args a)
    {
        if (a.Get("schedule-from") is { } modelDir)
        {
            foreach (var name in new[] { "schedule", "timesteps" })
                if (a.Get(name) is not null) throw new UsageException($"--{name} and --schedule-from exclude each other");
            var model = ModelConfig.FromJson(ModelDirectory.ReadConfig(modelDir), Path.Combine(modelDir, ModelDirectory.ConfigFile));
            if (model.Sde is not null) throw new UsageException($"'{modelDir}' is a continuous-time SDE model; classifier guidance needs a discrete-time schedule");
            return ClassifierSchedule.Of(model.Scheduler);
        }
        string name2 = a.Get("schedule") ?? "linear";
        var schedule = name2 == "cosine" ? BetaSchedule.SquaredcosCapV2 : Json.ParseEnum<BetaSchedule>(name2, "schedule (or 'cosine')");
        var result = new ClassifierSchedule { BetaSchedule = schedule, NumTrainTimesteps = a.Int("timesteps", 1000, 2, 100_000) };
        result.Validate();
        return result;
    }
}
