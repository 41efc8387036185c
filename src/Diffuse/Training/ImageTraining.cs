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
        using var dataset = ImageDatasets.Load(config.Data.Name, load with { ImageSize = image.Height, Channels = image.Channels }, log);
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
        ModelConfig config;
        ImageDataset dataset;
        if (options.Resume)
        {
            ModelDirectory.RequireModel(dir);
            if (!File.Exists(CheckpointPath(dir)))
                throw new DiffuseException($"'{dir}' has no {StateFolder}/{CheckpointFile} to resume from; start a new run with another --out");
            config = ModelConfig.FromJson(ModelDirectory.ReadConfig(dir), Path.Combine(dir, ModelDirectory.ConfigFile));
            if (config.Data.Image is null) throw new DiffuseException($"'{dir}' holds a model of 2-D points; --resume continues image runs");
            if (options.Steps is { } steps) config = config with { Training = config.Training with { Steps = steps } };
            var image = config.Data.Image!;
            dataset = ImageDatasets.Load(config.Data.Name, options.Load with { ImageSize = image.Height, Channels = image.Channels }, log);
        }
        else
        {
            var template = options.Template ?? throw new ArgumentException("a fresh run needs a template config", nameof(options));
            template.Training.Validate();
            ModelDirectory.PrepareForWrite(dir, options.Force);
            // The data decide the size (native for MNIST-like data, 32 for image folders, or --image-size);
            // the U-Net follows them.
            dataset = ImageDatasets.Load(options.Data, options.Load, log);
            config = template;
        }

        using var _dataset = dataset;
        RemoveStaleTemporaries(dir);
        if (dataset.Height != dataset.Width) throw new DiffuseException($"images must be square, got {dataset.Height}x{dataset.Width}");
        using var split = dataset.Split(config.Training.ValidationFraction, config.Training.Seed);
        var train = split.Train;
        if (train.Count < 1) throw new DiffuseException($"'{dataset.Name}' leaves no training images after the validation split");

        if (!options.Resume)
        {
            var net = config.Network.ForImages(dataset.Channels, dataset.Height);
            if (net.Text is { } text)
            {
                // A text-conditional run (train --cond text): the tokenizer's vocabulary is the words of the captions, those
                // of the folder's captions file when it has one, else the class names' templates.
                if (!dataset.IsLabelled && !dataset.IsCaptioned)
                    throw new DiffuseException($"'{options.Data}' has no class labels and no {ImageDatasets.CaptionsFile}; --cond text builds its captions from class names (mnist, fashion-mnist, or a folder with one sub-folder per class) or reads them from a {ImageDatasets.CaptionsFile} beside the images");
                if (dataset.IsCaptioned) text = text with { Captions = ImageDatasets.CaptionsFile };
                var tokenizer = Text.WordTokenizer.Build(TrainingCaptions(text, dataset), text.MaxLength);
                net = net.WithText(text with { Vocabulary = tokenizer.Vocabulary.ToArray() });
            }
            else if (config.Training.CondDrop is not null)
            {
                // A class-conditional run (train --cond class): one embedding row per class, plus the null label.
                if (!dataset.IsLabelled)
                    throw new DiffuseException($"'{options.Data}' has no class labels; --cond class needs labelled data (mnist, fashion-mnist, or a folder with one sub-folder per class)");
                net = net.WithClasses(dataset.ClassNames.Count);
            }
            // SR3: the noisy image and the upsampled low-resolution one side by side; with augmentation, the level's embedding.
            if (config.SuperRes is { } superRes) net = net.ForSuperResolution(dataset.Channels, superRes.CondNoiseMax is not null);
            var image = new ImageSpec
            {
                Channels = dataset.Channels, Height = dataset.Height, Width = dataset.Width,
                ClassNames = dataset.ClassNames.ToArray(), TrainCount = train.Count,
            };
            config = config with
            {
                Network = net,
                Data = new DataSpec { Name = options.Data, Dim = image.Channels * image.Height * image.Width, Mean = [], Scale = 1.0, Image = image },
            };
            config.Validate();
            var stale = CheckpointPath(dir);
            if (File.Exists(stale)) File.Delete(stale); // --force: the old run's state must not be resumed into the new one
            ModelDirectory.WriteConfig(dir, config.ToJson());
        }
        else if (config.Data.Image!.TrainCount != train.Count)
        {
            throw new DiffuseException($"the data changed since the run began ({train.Count} training images now, {config.Data.Image.TrainCount} then); resume needs the same data");
        }

        var spec = config.Training;
        using var captions = Captions(config, dataset, train);
        // Validation scores each held-out image's first caption: its class's, or its own from the captions file.
        using var validationCaptions = captions is { KeyedByImage: true } ? new Text.ImageCaptionTable(captions.Tokenizer, split.Validation.Captions!) : null;
        var gridPrompts = captions is null ? null : GridPrompts(config, split.Validation, train);
        using var network = NetworkTypes.Build(config.Network);
        using var shadow = NetworkTypes.Build(config.Network);
        using var generator = new Generator((ulong)spec.Seed);
        // Dropout gets a generator of its own, so that the run never touches libtorch's default one.
        using var dropoutGenerator = new Generator((ulong)(spec.Seed ^ 0x0d0d_0d0d));
        var generators = new Dictionary<string, Generator> { ["run"] = generator, ["dropout"] = dropoutGenerator };
        network.ResetParameters(generator);
        network.SetDropoutGenerator(dropoutGenerator);
        var ema = new Ema(network, shadow, spec.EmaDecay);
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(config.Scheduler), config.Scheduler.PredictionType);
        // bf16 training runs the passes on a bfloat16 copy of the network (same dropout generator); network keeps the fp32 master weights.
        using var working = spec.Precision == TrainingPrecision.Bf16 ? NetworkTypes.Build(config.Network) : null;
        working?.SetDropoutGenerator(dropoutGenerator);
        using var trainer = new Trainer(network, ema, diffusion, spec, config.Sde, working);
        string fingerprint = config.Fingerprint();
        if (options.Resume)
        {
            TrainCheckpoint.Load(CheckpointPath(dir), trainer, generators, fingerprint);
            if (trainer.Step >= spec.Steps)
                throw new DiffuseException($"'{dir}' has already trained {trainer.Step} of {spec.Steps} steps; pass --steps N (more than {trainer.Step}) to train longer");
            if (options.Steps is not null && spec.LrSchedule == LrSchedule.Cosine)
                log($"note: the cosine learning-rate schedule now spans {spec.Steps} steps, so the rate changes from step {trainer.Step} on");
            log($"resuming at step {trainer.Step} of {spec.Steps}");
        }

        var order = new DataOrder(train.Count, spec.Seed);
        var augmentation = new ImageAugmentation { HorizontalFlip = spec.HorizontalFlip, CropPadding = spec.CropPadding };
        var conditioning = TrainingConditionings.For(config, diffusion, captions, validationCaptions);
        // The augmentation draws first, then the conditioning's draws (label dropout, captions, SR augmentation), then the
        // trainer's t and noise: all from the run's generator, so a seed fixes them and a resume continues them.
        TrainingBatchSource batches = (micro, size, g) =>
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

        var callbacks = new RunCallbacks(dir, config, trainer, generators, fingerprint, split.Validation, options, log, conditioning, captions is not null, gridPrompts);
        int startStep = trainer.Step, end = Math.Min(spec.Steps, options.StopAtStep ?? spec.Steps);
        double smoothed = double.NaN, tailSum = 0;
        int tailCount = 0, tailStart = end - Math.Max(1, (end - startStep) / 10);
        bool interrupted = false;
        try
        {
            using var tensorboard = callbacks;
            while (trainer.Step < end)
            {
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
                double loss;
                try
                {
                    loss = trainer.TrainStep(batches, generator);
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
            if (!interrupted && trainer.Step == spec.Steps && split.Validation.Count > 0) validation = callbacks.Validate();
            double seconds = clock.Elapsed.TotalSeconds;
            int trained = trainer.Step - startStep;
            return new ImageTrainOutcome(dir, startStep, trainer.Step, spec.Steps, tailCount > 0 ? tailSum / tailCount : double.NaN, validation,
                network.ParameterCount(), clock.Elapsed, trained * (double)spec.BatchSize / Math.Max(1e-9, seconds), interrupted);
        }
        finally
        {
            network.eval();
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

    /// <summary>The periodic work of a run: checkpoints, validation, sample grids, TensorBoard.</summary>
    sealed class RunCallbacks(string dir, ModelConfig config, Trainer trainer, IReadOnlyDictionary<string, Generator> generators, string fingerprint,
        ImageDataset validation, ImageTrainingOptions options, Action<string> log, ITrainingConditioning conditioning, bool prompted, string[]? gridPrompts) : IDisposable
    {
        private readonly TrainingSpec spec = config.Training;
        private TorchSharp.Modules.SummaryWriter? writer;
        private double lossSum;
        private int lossCount;

        public double? LastValidationLoss { get; private set; }

        TorchSharp.Modules.SummaryWriter Writer => writer ??= torch.utils.tensorboard.SummaryWriter(Path.Combine(dir, TensorBoardFolder));

        public void AfterStep(double loss)
        {
            int step = trainer.Step;
            lossSum += loss;
            lossCount++;
            if (options.LogEvery > 0 && step % options.LogEvery == 0)
            {
                Writer.add_scalar("train/loss", (float)(lossSum / lossCount), step);
                Writer.add_scalar("train/lr", (float)LearningRate.At(spec.LrSchedule, step - 1, spec.Steps, spec.WarmupSteps, spec.LearningRate), step);
                lossSum = 0;
                lossCount = 0;
            }
            if (spec.CheckpointEvery > 0 && step % spec.CheckpointEvery == 0 && step < spec.Steps) Checkpoint();
            if (spec.ValidateEvery > 0 && step % spec.ValidateEvery == 0 && validation.Count > 0)
            {
                log($"step {step}: validation loss {Validate():F5}");
                NativeMemory.ReleaseFreed();
            }
            if (spec.SampleEvery > 0 && step % spec.SampleEvery == 0)
            {
                log($"step {step}: samples in {WriteGrid()}");
                NativeMemory.ReleaseFreed();
            }
        }

        /// <summary>Exports the weights and writes the resume state, each file atomically.</summary>
        public void Checkpoint()
        {
            ModelDirectory.SaveWeights(Path.Combine(dir, ModelDirectory.ModelFile), trainer.Model);
            ModelDirectory.SaveWeights(Path.Combine(dir, ModelDirectory.EmaFile), trainer.Ema.Shadow);
            Directory.CreateDirectory(Path.Combine(dir, StateFolder));
            TrainCheckpoint.Save(CheckpointPath(dir), trainer, generators, fingerprint);
            NativeMemory.ReleaseFreed();
        }

        /// <summary>
        /// The loss of the EMA weights on the same validation images, timesteps and noise every time
        /// (drawn from a generator of their own), so that successive values compare.
        /// </summary>
        public double Validate()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var model = (DenoiserNetwork)trainer.Ema.Shadow;
            long n = Math.Min(validation.Count, options.ValidationImages);
            using var g = new Generator((ulong)(spec.Seed ^ 0x7a1d));
            double sum = 0;
            const int batchSize = 100;
            for (long start = 0; start < n; start += batchSize)
            {
                using var inner = NewDisposeScope();
                long size = Math.Min(batchSize, n - start);
                var indices = Enumerable.Range(0, (int)size).Select(i => start + (long)i).ToArray();
                var batch = validation.Batch(indices);
                var x0 = batch.Images;
                // A class-conditional model is scored on its conditional prediction (no label dropout), a text-conditional
                // model on each image's first caption, a super-resolution model on its clean conditioning (level 0).
                var condition = conditioning.Fixed(x0, batch.Labels, indices);
                Func<Tensor, Tensor, Tensor> forward = (x, t) => model.Forward(new DenoiserInput(x, t, condition));
                var loss = trainer.Objective.EvaluationLoss(forward, x0, g).mean();
                sum += loss.item<float>() * size;
            }
            LastValidationLoss = sum / n;
            Writer.add_scalar("val/loss", (float)LastValidationLoss.Value, trainer.Step);
            return LastValidationLoss.Value;
        }

        /// <summary>
        /// A grid of EMA samples (fixed seed, so grids of successive steps compare): DDIM for a discrete-time model, the
        /// predictor-corrector sampler for an SDE model (<see cref="SdeSampling.GridSteps"/> steps).
        /// </summary>
        public string WriteGrid()
        {
            using var g = new Generator((ulong)spec.Seed);
            int? columns = null;
            Tensor images;
            if (config.Sde is { } sde) images = SdeGrid(sde, g);
            else if (config.SuperRes is not null) (images, columns) = SuperResolutionGrid(g);
            else (images, columns) = DdimGrid(g);
            using var _ = images;
            string path = Path.Combine(dir, SamplesFolder, $"step-{trainer.Step:D6}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ImageGrid.WritePng(path, images, columns);
            return path;
        }

        /// <summary>DDIM samples; a class-conditional model draws one row per class (no guidance), the grid's columns.</summary>
        (Tensor Images, int? Columns) DdimGrid(Generator g)
        {
            var model = ImageModel.FromNetwork(config, (DenoiserNetwork)trainer.Ema.Shadow, dir);
            var scheduler = Schedulers.Create("ddim", config.Scheduler);
            int steps = Math.Min(options.GridSteps, config.Scheduler.NumTrainTimesteps);
            if (prompted)
            {
                // A text-conditional model draws one row per prompt: each class's first caption, or captions of the file.
                var prompts = gridPrompts!;
                int perClass = (int)Guidance.Conditioning.PerClass(options.GridImages, prompts.Length);
                return (model.SampleText(perClass * prompts.Length, scheduler, steps, g, Guidance.TextConditioning.Rows(prompts, perClass)), perClass);
            }
            var conditioning = model.IsConditional ? Guidance.Conditioning.ClassRows(options.GridImages, model.ClassNames.Count) : null;
            int? columns = conditioning is null ? null : (int)Guidance.Conditioning.PerClass(options.GridImages, model.ClassNames.Count);
            return (model.Sample(conditioning?.Labels.Length ?? options.GridImages, scheduler, steps, g, conditioning), columns);
        }

        /// <summary>A super-resolution model's grid: rows of validation images' bicubic upsampling, then the model's upscaling (DDIM), then the originals.</summary>
        (Tensor Images, int? Columns) SuperResolutionGrid(Generator g)
        {
            using var scope = NewDisposeScope();
            var source = validation.Count > 0 ? validation : null;
            if (source is null) return (zeros(1, config.Data.Image!.Channels, config.Data.Image.Height, config.Data.Image.Width), null);
            int count = (int)Math.Min(8, source.Count);
            var originals = source.Batch(Enumerable.Range(0, count).Select(i => (long)i).ToArray()).Images;
            int scale = config.SuperRes!.Scale;
            var low = LowResolution.Downsample(originals, scale);
            var model = new SuperResolution(ImageModel.FromNetwork(config, (DenoiserNetwork)trainer.Ema.Shadow, dir));
            var scheduler = Schedulers.Create("ddim", config.Scheduler);
            var upscaled = model.Upscale(low, scheduler, Math.Min(options.GridSteps, config.Scheduler.NumTrainTimesteps), g);
            return (cat([LowResolution.Upsample(low, scale), upscaled, originals], 0).MoveToOuterDisposeScope(), count);
        }

        Tensor SdeGrid(SdeSpec sde, Generator g)
        {
            var image = config.Data.Image!;
            var network = (DenoiserNetwork)trainer.Ema.Shadow;
            using var samples = SdeSampling.PredictorCorrector(sde, network.forward, [options.GridImages, image.Channels, image.Height, image.Width],
                SdeSampling.GridSteps(sde), g);
            return samples.clamp(-1, 1);
        }

        // SummaryWriter appends each scalar to its event file as it comes; there is nothing to close.
        public void Dispose() => writer = null;
    }
}
