using Diffuse.Configuration;
using System.Diagnostics;
using Diffuse.Data;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>What an image training run reports at its end.</summary>
public sealed record ImageTrainOutcome(string Directory, int StartStep, int EndStep, int TotalSteps, double FinalLoss,
    double? ValidationLoss, long Parameters, TimeSpan Elapsed, double ImagesPerSecond, bool Interrupted);

/// <summary>
/// The job behind <c>diffuse train</c> on images: load and split the data, build the U-Net, train
/// with checkpoints (every N steps, at the end, on Ctrl-C) from which <c>--resume</c> continues
/// exactly, validation losses, PNG grids of samples and TensorBoard scalars, all in the run folder:
/// <code>
/// config.json, model.safetensors, ema.safetensors   the model, usable while training goes on
/// train_state/checkpoint.safetensors                 everything a resume needs (one atomic file)
/// samples/step-NNNNNN.png                            grids of EMA samples
/// tensorboard/                                       event files (train/loss, train/lr, val/loss)
/// </code>
/// </summary>
public static class ImageTraining
{
    public const string StateFolder = "train_state";
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string SamplesFolder = "samples";
    public const string TensorBoardFolder = "tensorboard";

    /// <summary>Copies of the network a run holds: the weights, their EMA, a bf16 working copy, the gradients and AdamW's two moments.</summary>
    internal const int TrainingCopies = 6;

    public static string CheckpointPath(string dir) => Path.Combine(dir, StateFolder, CheckpointFile);

    /// <summary>
    /// The images a run of <paramref name="config"/> held out for validation: its dataset loaded again at the model's size and
    /// split as <see cref="Run"/> splits it (<see cref="ImageDataset.Split"/> by the run's validation fraction and seed). A
    /// dataset that no longer gives the run's training count (other data, or <c>--max-images</c> then) is refused, since
    /// its split would not be the run's. The caller disposes the result.
    /// </summary>
    public static ImageDataset HeldOut(ModelConfig config, ImageLoadOptions load, Action<string>? log = null)
    {
        var split = RunSplit(config, load, log);
        split.Train.Dispose();
        return split.Validation;
    }

    /// <summary>
    /// The training and held-out images of a run of <paramref name="config"/>, rebuilt as <see cref="HeldOut"/> rebuilds the
    /// held-out part (the same checks); the caller disposes the result.
    /// </summary>
    public static DatasetSplit RunSplit(ModelConfig config, ImageLoadOptions load, Action<string>? log = null)
    {
        var image = config.Data.Image ?? throw new DiffuseException("a model of 2-D points has no held-out images");
        using var dataset = ImageDatasets.Load(config.Data.Name, load with { ImageSize = image.Height, Channels = image.Channels, MaxImages = image.MaxImages ?? load.MaxImages }, log);
        var split = dataset.Split(config.Training.ValidationFraction, config.Training.Seed);
        if (image.TrainCount > 0 && split.Train.Count != image.TrainCount)
        {
            long trainCount = split.Train.Count;
            split.Dispose();
            throw new DiffuseException($"'{config.Data.Name}' now gives {trainCount} training images, the run had {image.TrainCount}: its validation split cannot be rebuilt");
        }
        if (split.Validation.Count == 0)
        {
            split.Dispose();
            throw new DiffuseException($"the run held out no validation images (val_fraction {config.Training.ValidationFraction})");
        }
        return split;
    }

    public static ImageTrainOutcome Run(ImageTrainingOptions options, IProgress<TrainProgress>? progress = null,
        Action<string>? log = null, CancellationToken cancel = default)
    {
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        string dir = options.OutDir;
        var (config, dataset) = options.Resume ? OpenToResume(options, log) : OpenFresh(options, log);
        using var _dataset = dataset;
        RemoveStaleTemporaries(dir);
        if (dataset.Height != dataset.Width) throw new DiffuseException($"images must be square, got {dataset.Height}x{dataset.Width}");
        using var split = dataset.Split(config.Training.ValidationFraction, config.Training.Seed);
        var train = split.Train;
        if (train.Count < 1) throw new DiffuseException($"'{dataset.Name}' leaves no training images after the validation split");
        if (!options.Resume) config = FitToData(config, options.Data, dataset, train.Count, options.Load.MaxImages);
        NetworkMemory.Check(config.Network, TrainingCopies, $"'{dir}'", "training it");
        SampleMemory.CheckTrainingBatch(config.Network, dataset.Height, config.Training.BatchSize, config.Training.GradientAccumulation);
        string? aside = null;
        if (!options.Resume)
        {
            // --force over a model: its files go aside first, so that a kill before this run's first checkpoint never leaves
            // the new config.json beside the old weights (nor the old run's state to resume into the new one).
            aside = ModelDirectory.MoveModelAside(dir);
            if (aside is not null) log($"moved the model in '{dir}' aside to '{aside}' until this run's first checkpoint");
            ModelDirectory.WriteConfig(dir, config.ToJson());
        }
        else if (config.Data.Image!.TrainCount != train.Count)
        {
            throw new DiffuseException($"the data changed since the run began ({train.Count} training images now, {config.Data.Image.TrainCount} then); resume needs the same data");
        }
        try
        {
            return Train(dir, config, dataset, split, options, aside is null ? null : () => { ModelDirectory.DeleteAside(aside); aside = null; },
                log, clock, progress, cancel);
        }
        catch when (aside is not null)
        {
            // The run failed before its first checkpoint: the model it was to replace comes back.
            ModelDirectory.RestoreAside(dir, aside);
            log($"the run stopped before its first checkpoint; the model that was in '{dir}' is back");
            throw;
        }
    }

    /// <summary>The run on its opened folder, data and config: networks, conditioning, callbacks and the loop.</summary>
    static ImageTrainOutcome Train(string dir, ModelConfig config, ImageDataset dataset, DatasetSplit split, ImageTrainingOptions options,
        Action? firstCheckpoint, Action<string> log, Stopwatch clock, IProgress<TrainProgress>? progress, CancellationToken cancel)
    {
        var train = split.Train;
        var spec = config.Training;
        using var captions = Captions(config, dataset, train);
        // Validation scores each held-out image's first caption: its class's, or its own from the captions file.
        using var validationCaptions = captions is { KeyedByImage: true } ? new Text.ImageCaptionTable(captions.Tokenizer, split.Validation.Captions!) : null;
        var gridPrompts = captions is null ? null : GridPrompts(config, split.Validation, train);
        using var run = new RunNetworks(config);
        string fingerprint = config.Fingerprint();
        if (options.Resume)
        {
            TrainCheckpoint.Load(CheckpointPath(dir), run.Trainer, run.Generators, fingerprint);
            if (run.Trainer.Step >= spec.Steps)
                throw new DiffuseException($"'{dir}' has already trained {run.Trainer.Step} of {spec.Steps} steps; pass --steps N (more than {run.Trainer.Step}) to train longer");
            if (options.Steps is not null && spec.LrSchedule == LrSchedule.Cosine)
                log($"note: the cosine learning-rate schedule now spans {spec.Steps} steps, so the rate changes from step {run.Trainer.Step} on");
            log($"resuming at step {run.Trainer.Step} of {spec.Steps}");
        }
        var conditioning = TrainingConditionings.For(config, run.Diffusion, captions, validationCaptions);
        using var callbacks = new ImageRunCallbacks(dir, config, run.Trainer, run.Generators, fingerprint, split.Validation, options, log, conditioning,
            captions is not null, gridPrompts) { FirstCheckpoint = firstCheckpoint };
        return TrainLoop(run, Batches(train, spec, conditioning), callbacks, options, split.Validation.Count > 0, clock, progress, cancel);
    }

    /// <summary>A run to resume: its folder's config (with a grown step count) and its data, loaded at the run's size.</summary>
    static (ModelConfig, ImageDataset) OpenToResume(ImageTrainingOptions options, Action<string> log)
    {
        string dir = options.OutDir;
        ModelDirectory.RequireModel(dir);
        if (!File.Exists(CheckpointPath(dir)))
            throw new DiffuseException($"'{dir}' has no {StateFolder}/{CheckpointFile} to resume from; start a new run with another --out");
        var config = ModelConfig.FromJson(ModelDirectory.ReadConfig(dir), Path.Combine(dir, ModelDirectory.ConfigFile));
        var image = config.Data.Image ?? throw new DiffuseException($"'{dir}' holds a model of 2-D points; --resume continues image runs");
        if (options.Steps is { } steps) config = config with { Training = config.Training with { Steps = steps } };
        // Every setting that shaped the run's data is in its config: the size, the channels and --max-images.
        return (config, ImageDatasets.Load(config.Data.Name, options.Load with { ImageSize = image.Height, Channels = image.Channels, MaxImages = image.MaxImages }, log));
    }

    /// <summary>A fresh run: the folder made ready (a model there needs --force) and the data loaded at their own size.</summary>
    static (ModelConfig, ImageDataset) OpenFresh(ImageTrainingOptions options, Action<string> log)
    {
        var template = options.Template ?? throw new ArgumentException("a fresh run needs a template config", nameof(options));
        template.Training.Validate();
        ModelDirectory.PrepareForWrite(options.OutDir, options.Force, log);
        // The data decide the size (native for MNIST-like data, 32 for image folders, or --image-size); the network follows them.
        return (template, ImageDatasets.Load(options.Data, options.Load, log));
    }

    /// <summary>
    /// The template's network sized for the data and given the conditioning the run asks for (a text run's vocabulary from
    /// its captions, a class run's classes, a super-resolution run's low-resolution input), and the data's spec.
    /// </summary>
    static ModelConfig FitToData(ModelConfig config, string dataName, ImageDataset dataset, long trainCount, int? maxImages)
    {
        var net = config.Network.ForImages(dataset.Channels, dataset.Height);
        if (net.Text is { } text)
        {
            // A text-conditional run (train --cond text): the tokenizer's vocabulary is the words of the captions, those
            // of the folder's captions file when it has one, else the class names' templates.
            if (!dataset.IsLabelled && !dataset.IsCaptioned)
                throw new DiffuseException($"'{dataName}' has no class labels and no {ImageDatasets.CaptionsFile}; --cond text builds its captions from class names (mnist, fashion-mnist, or a folder with one sub-folder per class) or reads them from a {ImageDatasets.CaptionsFile} beside the images");
            if (dataset.IsCaptioned) text = text with { Captions = ImageDatasets.CaptionsFile };
            var tokenizer = Text.WordTokenizer.Build(TrainingCaptions(text, dataset), text.MaxLength);
            net = net.WithText(text with { Vocabulary = tokenizer.Vocabulary.ToArray() });
        }
        else if (config.Training.CondDrop is not null)
        {
            // A class-conditional run (train --cond class): one embedding row per class, plus the null label.
            if (!dataset.IsLabelled)
                throw new DiffuseException($"'{dataName}' has no class labels; --cond class needs labelled data (mnist, fashion-mnist, or a folder with one sub-folder per class)");
            net = net.WithClasses(dataset.ClassNames.Count);
        }
        // SR3: the noisy image and the upsampled low-resolution one side by side; with augmentation, the level's embedding.
        if (config.SuperRes is { } superRes) net = net.ForSuperResolution(dataset.Channels, superRes.CondNoiseMax is not null);
        var image = new ImageSpec
        {
            Channels = dataset.Channels, Height = dataset.Height, Width = dataset.Width,
            ClassNames = dataset.ClassNames.ToArray(), TrainCount = trainCount, MaxImages = maxImages,
        };
        config = config with
        {
            Network = net,
            Data = new DataSpec { Name = dataName, Dim = image.Channels * image.Height * image.Width, Mean = [], Scale = 1.0, Image = image },
        };
        config.Validate();
        return config;
    }

    /// <summary>
    /// The run's micro-batches: the data order's images, augmented, with the conditioning's draws. The augmentation draws
    /// first, then the conditioning (label dropout, captions, SR augmentation), then the trainer's t and noise: all from the
    /// run's generator, so a seed fixes them and a resume continues them.
    /// </summary>
    static TrainingBatchSource Batches(ImageDataset train, TrainingSpec spec, ITrainingConditioning conditioning)
    {
        var order = new DataOrder(train.Count, spec.Seed);
        var augmentation = new ImageAugmentation { HorizontalFlip = spec.HorizontalFlip, CropPadding = spec.CropPadding };
        return (micro, size, g) =>
        {
            var indices = order.Batch(micro, size);
            var batch = train.Batch(indices);
            using var labels = batch.Labels;
            var images = batch.Images;
            if (!augmentation.IsIdentity)
            {
                using var raw = images;
                images = augmentation.Apply(raw, g);
            }
            return new TrainingBatch(images, conditioning.Draw(images, labels, indices, g));
        };
    }

    /// <summary>Steps until the end (or Ctrl-C, or <see cref="ImageTrainingOptions.StopAtStep"/>), then the last checkpoint and validation.</summary>
    static ImageTrainOutcome TrainLoop(RunNetworks run, TrainingBatchSource batches, ImageRunCallbacks callbacks, ImageTrainingOptions options,
        bool validates, Stopwatch clock, IProgress<TrainProgress>? progress, CancellationToken cancel)
    {
        var (trainer, spec, dir) = (run.Trainer, run.Trainer.Spec, options.OutDir);
        int startStep = trainer.Step, end = Math.Min(spec.Steps, options.StopAtStep ?? spec.Steps);
        double smoothed = double.NaN, tailSum = 0;
        int tailCount = 0, tailStart = end - Math.Max(1, (end - startStep) / 10);
        bool interrupted = false;
        try
        {
            while (trainer.Step < end)
            {
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
                double loss;
                try
                {
                    loss = trainer.TrainStep(batches, run.Generator);
                }
                catch (DiffuseException e)
                {
                    int? kept = TrainCheckpoint.StepOf(CheckpointPath(dir));
                    string where = kept is null ? "no checkpoint was written yet" : $"the last good checkpoint (step {kept}) is kept in {Path.Combine(dir, StateFolder)}";
                    throw new DiffuseException($"{e.Message}; {where}", e);
                }
                smoothed = double.IsNaN(smoothed) ? loss : 0.98 * smoothed + 0.02 * loss;
                if (trainer.Step > tailStart) { tailSum += loss; tailCount++; }
                callbacks.AfterStep(loss);
                progress?.Report(new TrainProgress(trainer.Step, spec.Steps, smoothed, LearningRate.At(spec.LrSchedule, trainer.Step - 1, spec.Steps, spec.WarmupSteps, spec.LearningRate)));
            }
            callbacks.Checkpoint();
            double? validation = callbacks.LastValidationLoss;
            if (!interrupted && trainer.Step == spec.Steps && validates) validation = callbacks.Validate();
            double seconds = clock.Elapsed.TotalSeconds;
            int trained = trainer.Step - startStep;
            return new ImageTrainOutcome(dir, startStep, trainer.Step, spec.Steps, tailCount > 0 ? tailSum / tailCount : double.NaN, validation,
                run.Network.ParameterCount(), clock.Elapsed, trained * (double)spec.BatchSize / Math.Max(1e-9, seconds), interrupted);
        }
        finally
        {
            run.Network.eval();
        }
    }

    /// <summary>
    /// A run's networks and generators: the network (fp32 master weights) initialised from the run's generator, its EMA
    /// shadow, in bf16 training a bfloat16 working copy, dropout on a generator of its own (so the run never touches
    /// libtorch's default one), and the trainer over them.
    /// </summary>
    sealed class RunNetworks : IDisposable
    {
        public readonly DenoiserNetwork Network, Shadow;
        public readonly DenoiserNetwork? Working;
        public readonly Generator Generator, DropoutGenerator;
        public readonly GaussianDiffusion Diffusion;
        public readonly Trainer Trainer;
        public IReadOnlyDictionary<string, Generator> Generators => new Dictionary<string, Generator> { ["run"] = Generator, ["dropout"] = DropoutGenerator };

        public RunNetworks(ModelConfig config)
        {
            var spec = config.Training;
            Network = NetworkTypes.Build(config.Network);
            Shadow = NetworkTypes.Build(config.Network);
            Generator = new Generator((ulong)spec.Seed);
            DropoutGenerator = new Generator((ulong)(spec.Seed ^ 0x0d0d_0d0d));
            Network.ResetParameters(Generator);
            Network.SetDropoutGenerator(DropoutGenerator);
            var ema = new Ema(Network, Shadow, spec.EmaDecay);
            Diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(config.Scheduler), config.Scheduler.PredictionType);
            Working = spec.Precision == TrainingPrecision.Bf16 ? NetworkTypes.Build(config.Network) : null;
            Working?.SetDropoutGenerator(DropoutGenerator);
            Trainer = new Trainer(Network, ema, Diffusion, spec, config.Sde, Working);
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Working?.Dispose();
            Shadow.Dispose();
            Network.Dispose();
            DropoutGenerator.Dispose();
            Generator.Dispose();
        }
    }

    /// <summary>
    /// The training captions of a text-conditional run, tokenized by the vocabulary in its config: per image from the captions
    /// file, or per class from the templates of the class names; null for other runs. A vocabulary that the captions no
    /// longer give (other captions, or templates of another version) is refused.
    /// </summary>
    static Text.ICaptionTable? Captions(ModelConfig config, ImageDataset dataset, ImageDataset train)
    {
        if (config.Network.Text is not { } text) return null;
        if (text.FromCaptionsFile && !dataset.IsCaptioned)
            throw new DiffuseException($"the run learnt from '{config.Data.Name}'s {ImageDatasets.CaptionsFile}, which is no longer there; resume needs the same captions");
        var tokenizer = new Text.WordTokenizer(text.Vocabulary, text.MaxLength);
        if (!Text.WordTokenizer.Build(TrainingCaptions(text, dataset), text.MaxLength).Vocabulary.SequenceEqual(tokenizer.Vocabulary))
            throw new DiffuseException(text.FromCaptionsFile
                ? $"the words of '{config.Data.Name}'s {ImageDatasets.CaptionsFile} differ from the run's vocabulary; resume needs the same captions"
                : "the run's vocabulary differs from the words of its caption templates; it cannot be resumed by this version");
        return text.FromCaptionsFile ? new Text.ImageCaptionTable(tokenizer, train.Captions!) : new Text.CaptionTable(tokenizer, Text.CaptionTemplates.For(config.Data.Image!.ClassNames));
    }

    /// <summary>Every caption the run trains on (its vocabulary's source): the whole captions file, or the class names' templates.</summary>
    static IEnumerable<string> TrainingCaptions(TextEncoderConfig text, ImageDataset dataset) =>
        text.FromCaptionsFile ? dataset.Captions!.SelectMany(c => c) : Text.CaptionTemplates.For(dataset.ClassNames).SelectMany(c => c);

    /// <summary>
    /// The prompts of a text-conditional run's sample grids, one row each: each class's first template caption, or for a
    /// captions file up to <see cref="GridCaptionRows"/> distinct non-empty first captions of the validation images (then
    /// of the training images).
    /// </summary>
    internal static string[] GridPrompts(ModelConfig config, ImageDataset validation, ImageDataset train)
    {
        var text = config.Network.Text!;
        if (!text.FromCaptionsFile) return Text.CaptionTemplates.For(config.Data.Image!.ClassNames).Select(c => c[0]).ToArray();
        var prompts = validation.Captions!.Concat(train.Captions!).Where(c => c.Count > 0 && c[0].Length > 0).Select(c => c[0])
            .Distinct(StringComparer.Ordinal).Take(GridCaptionRows).ToArray();
        return prompts.Length > 0 ? prompts : [""];
    }

    /// <summary>The most rows of a captions-file run's sample grid.</summary>
    public const int GridCaptionRows = 8;

    /// <summary>Temporary files a killed process left behind (AtomicFile names them .NAME.tmp-GUID); the files they were to replace are intact.</summary>
    static void RemoveStaleTemporaries(string dir)
    {
        foreach (var folder in new[] { dir, Path.Combine(dir, StateFolder) }.Where(Directory.Exists))
            foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp-*"))
                try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
