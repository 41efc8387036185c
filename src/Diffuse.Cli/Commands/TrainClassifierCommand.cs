using System.CommandLine;
using System.Diagnostics;
using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Training;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse train-classifier</c>: the noise-aware classifier of classifier guidance.</summary>
public sealed class TrainClassifierCommand : DiffuseCommand
{
    static readonly NoisyClassifierSettings Defaults = new();

    readonly Option<string?> data = TrainingOptions.Data("mnist | fashion-mnist | a folder of MNIST IDX files | a folder with one sub-folder per class", required: true);
    readonly Option<string?> outDir = Common.Out("a new or empty folder (refused otherwise, unless --force)", helpName: "DIR");
    readonly Option<string?> scheduleFrom = Opt.Text("--schedule-from", "take the noise schedule of this model folder (the models it will guide)", helpName: "DIR");
    readonly Option<BetaSchedule> schedule = TrainingOptions.Schedule("the noise schedule's betas (the models' default)");
    readonly Option<int> timesteps = TrainingOptions.Timesteps("training timesteps of the schedule");
    readonly Option<int?> steps = Common.TrainingSteps($"AdamW steps (default {Defaults.Steps})");
    readonly Option<int?> batchSize = TrainingOptions.BatchSize($"images per step (default {Defaults.BatchSize})");
    readonly Option<double?> lr = TrainingOptions.LearningRate($"peak learning rate, warmup then cosine (default {Defaults.LearningRate})");
    readonly Option<int> baseChannels = Opt.Int("--base-channels", "channels of the first level, a multiple of 8; the levels have 1x, 2x, 2x", 16, 8, 1024);
    readonly Option<long> seed = Common.Seed("seed of the weights, batches, shifts, timesteps and noise");
    readonly Option<double?> valFraction = TrainingOptions.ValidationFraction($"share of the images held out to measure the classifier (default {Defaults.ValidationFraction})");
    readonly Option<bool> force = Common.Force("replace --out when it is not empty");
    readonly DataOptions load = new();

    public TrainClassifierCommand() : base("train-classifier", """
        train a noise-aware classifier p(y | x_t) for classifier guidance (sample/eval --classifier)

        diffuse train-classifier --data mnist --out runs/mnist-clf [--steps 1500] [--schedule-from runs/mnist]

        Trains the encoder half of a small U-Net (timestep embedding, residual blocks, a pooled linear head) on images noised by
        the forward process q(x_t | x_0) of a noise schedule at t drawn uniformly (Dhariwal & Nichol 2021), reports its accuracy
        on held-out images clean and noised, and writes DIR/config.json (schedule, image size, channels, class names, accuracy)
        and DIR/classifier.safetensors, staged so that a failure leaves nothing.
        """)
    {
        outDir.Required = true;
        this.AddOptions(data, outDir, scheduleFrom, schedule, timesteps, steps, batchSize, lr, baseChannels, seed, valFraction, force);
        load.AddTo(this);
        this.Check(r =>
        {
            if (r.GetValue(baseChannels) % 8 != 0) throw new UsageException($"--base-channels must be a multiple of 8, got {r.GetValue(baseChannels)}");
            if (r.GetValue(valFraction) is 0) throw new UsageException("--val-fraction must be greater than 0, got 0");
            if (r.Given(scheduleFrom) && r.FirstGiven(schedule, timesteps) is { } other) throw new UsageException($"{other} and --schedule-from exclude each other");
            if (r.GetValue(timesteps) < 2) throw new UsageException($"--timesteps must be at least 2, got {r.GetValue(timesteps)}");
            try
            {
                LabelledImageFolder.CheckTarget(r.GetValue(outDir)!, r.GetValue(force));
            }
            catch (DiffuseException e)
            {
                throw new UsageException($"--out {e.Message}");
            }
        });
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string source = result.GetValue(data)!, dir = result.GetValue(outDir)!;
        var noise = Schedule(result);
        var settings = new NoisyClassifierSettings
        {
            Steps = result.GetValue(steps) ?? Defaults.Steps, BatchSize = result.GetValue(batchSize) ?? Defaults.BatchSize,
            LearningRate = result.GetValue(lr) ?? Defaults.LearningRate, Seed = result.GetValue(seed), ValidationFraction = result.GetValue(valFraction) ?? Defaults.ValidationFraction,
        };
        using var dataset = ImageDatasets.Load(source, load.Read(result.CommandResult), line => Console.Error.WriteLine($"warning: {line}"));
        if (!dataset.IsLabelled)
            throw new DiffuseException($"'{source}' has no class labels; a classifier needs labelled data (mnist, fashion-mnist, or one sub-folder per class)");
        if (dataset.ClassNames.Count < 2) throw new DiffuseException($"'{source}' has {dataset.ClassNames.Count} class; a classifier needs at least 2");
        if (dataset.Height != dataset.Width) throw new DiffuseException($"the classifier needs square images, got {dataset.Height}x{dataset.Width}");
        var encoder = Encoder(result.GetValue(baseChannels)).ForImages(dataset.Channels, dataset.Height);
        using var split = dataset.Split(settings.ValidationFraction, ImageEvaluation.ClassifierSplitSeed);
        var config = new NoisyClassifierConfig
        {
            Encoder = encoder, Schedule = noise, Data = source, Training = settings,
            Image = new ImageSpec
            {
                Channels = dataset.Channels, Height = dataset.Height, Width = dataset.Width, ClassNames = [.. dataset.ClassNames], TrainCount = split.Train.Count,
            },
        };
        config.Validate();
        using var trainImages = split.Train.ToImages();
        using var valImages = split.Validation.ToImages();
        var clock = Stopwatch.StartNew();
        using var classifier = ProgressDisplay.Run("train-classifier", settings.Steps, report =>
            NoisyClassifierTraining.Train(config, trainImages, split.Train.Labels,
                new SyncProgress<NoisyClassifierTraining.Progress>(p => report(p.Step, $"loss {p.Loss:F4}")), reportEvery: 10));
        double seconds = clock.Elapsed.TotalSeconds;
        var accuracy = NoisyClassifierTraining.Measure(classifier, noise, valImages, split.Validation.Labels, settings.Seed + 1);
        NoisyClassifierTraining.Save(dir, config with { Accuracy = accuracy }, classifier);
        var output = result.Output();
        output.WriteLine($"trained a noise-aware classifier on {split.Train.Count} images of {source} ({noise.Describe()}; {settings.Steps} steps of {settings.BatchSize}, {seconds:F0} s)");
        output.WriteLine(Describe(accuracy, noise.NumTrainTimesteps));
        output.WriteLine($"wrote {dir}");
        return Cli.Ok;
    }

    /// <summary>"held-out accuracy (1000 images): clean 98.1%, t ~ U{0..999} 71.0%, t = 250 95.2%, ..."</summary>
    static string Describe(ClassifierAccuracy accuracy, int timesteps) =>
        $"  held-out accuracy ({accuracy.Images} images): clean {accuracy.Clean:P1}, t ~ U{{0..{timesteps - 1}}} {accuracy.Noisy:P1}, " +
        string.Join(", ", accuracy.AtTimesteps.Select(p => $"t = {p.Timestep} {p.Accuracy:P1}"));

    /// <summary>The encoder: three levels (1x, 2x, 2x), one residual block each, attention only in the middle block.</summary>
    static UNetConfig Encoder(int baseChannels) => new()
    {
        BaseChannels = baseChannels, ChannelMult = [1, 2, 2], NumResBlocks = 1, AttentionResolutions = [], NumHeads = 4, GroupNormGroups = 8,
    };

    /// <summary>The schedule of --schedule-from's model, or of --schedule and --timesteps.</summary>
    ClassifierSchedule Schedule(ParseResult result)
    {
        if (result.GetValue(scheduleFrom) is not { } modelDir)
        {
            var own = new ClassifierSchedule { BetaSchedule = result.GetValue(schedule), NumTrainTimesteps = result.GetValue(timesteps) };
            own.Validate();
            return own;
        }
        var model = Common.ReadConfig(modelDir);
        if (model.Sde is not null) throw new UsageException($"'{modelDir}' is a continuous-time SDE model; classifier guidance needs a discrete-time schedule");
        return ClassifierSchedule.Of(model.Scheduler);
    }
}
