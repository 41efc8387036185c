using System.Diagnostics;
using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>The periodic work of a run: checkpoints, validation, sample grids, TensorBoard.</summary>
sealed class ImageRunCallbacks(string dir, ModelConfig config, Trainer trainer, IReadOnlyDictionary<string, Generator> generators, string fingerprint,
    ImageDataset validation, ImageTrainingOptions options, Action<string> log, ITrainingConditioning conditioning, bool prompted, string[]? gridPrompts) : IDisposable
{
    private readonly TrainingSpec spec = config.Training;
    private TorchSharp.Modules.SummaryWriter? writer;
    private double lossSum;
    private int lossCount;

    public double? LastValidationLoss { get; private set; }

    /// <summary>Called once, after the run's first checkpoint is written (a forced run then deletes the model it replaced).</summary>
    public Action? FirstCheckpoint { get; init; }

    private bool checkpointed;

    TorchSharp.Modules.SummaryWriter Writer => writer ??= torch.utils.tensorboard.SummaryWriter(Path.Combine(dir, ImageTraining.TensorBoardFolder));

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
        Directory.CreateDirectory(Path.Combine(dir, ImageTraining.StateFolder));
        TrainCheckpoint.Save(ImageTraining.CheckpointPath(dir), trainer, generators, fingerprint);
        if (!checkpointed) FirstCheckpoint?.Invoke();
        checkpointed = true;
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
        string path = Path.Combine(dir, ImageTraining.SamplesFolder, $"step-{trainer.Step:D6}.png");
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
            return (model.Sample(perClass * prompts.Length, scheduler, steps, g, Guidance.TextConditioning.Rows(prompts, perClass)), perClass);
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
