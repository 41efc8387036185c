using Diffuse.Process;
using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// A trained image diffusion model, loaded from a model directory: the U-Net (EMA weights by
/// default), its config, and sampling in batches into images in [-1, 1]. A model with learned variances
/// (2C output channels) hands the variance channels only to schedulers that take them
/// (<see cref="IScheduler.TakesVarianceChannels"/>: ddpm and the DPM-Solvers); the others see the prediction alone.
/// </summary>
public sealed class ImageModel : IDiffusionModel
{
    /// <summary>Images sampled together; bounds memory and keeps the per-image cost near its minimum on a CPU.</summary>
    public const int DefaultBatchSize = 250;

    private ImageModel(string directory, ModelConfig config, DenoiserNetwork network)
    {
        Directory = directory;
        Config = config;
        Network = network;
        Image = config.Data.Image!;
    }

    public string Directory { get; }
    public ModelConfig Config { get; }
    /// <summary>The network (a U-Net, or any registered type of <see cref="NetworkTypes"/>).</summary>
    public DenoiserNetwork Network { get; }
    public ImageSpec Image { get; }
    /// <summary>Images sampled together (at least 1).</summary>
    public int BatchSize
    {
        get => batchSize;
        set => batchSize = value >= 1 ? value : throw DiffuseException.For("batch_size", $"batch_size must be at least 1, got {value}");
    }

    private int batchSize = DefaultBatchSize;

    /// <summary>Loads and validates a model directory; every problem is a one-line <see cref="DiffuseException"/>.</summary>
    public static ImageModel Load(string directory, bool useEma = true)
    {
        var config = ModelLoading.ReadConfig(directory);
        if (config.Data.Image is null)
            throw new DiffuseException($"'{directory}' holds a model of 2-D points; this command needs an image model");
        var network = ModelLoading.LoadNetwork(directory, useEma, config.Network);
        return new ImageModel(directory, config, network);
    }

    /// <summary>
    /// Runs the network in bfloat16 from now on (the weights are converted in place; the
    /// scheduler's arithmetic stays float32): about twice the speed on CPUs with AVX-512 BF16.
    /// </summary>
    public void UseBFloat16()
    {
        Network.to(ScalarType.BFloat16);
        Precision = ScalarType.BFloat16;
    }

    /// <summary>The dtype the network runs in.</summary>
    public ScalarType Precision { get; private set; } = ScalarType.Float32;

    /// <summary>Wraps a network in memory (for sample grids during training).</summary>
    public static ImageModel FromNetwork(ModelConfig config, DenoiserNetwork network, string directory = "") =>
        new(directory, config, network);

    /// <inheritdoc cref="IDiffusionModel.CreateScheduler"/>
    public IScheduler CreateScheduler(string sampler, Func<SchedulerConfig, SchedulerConfig>? configure = null) =>
        IDiffusionModel.SchedulerFor(this, sampler, configure);

    public long StepsFor(long n, int steps) => Batches(n) * steps;

    long Batches(long n) => SampleBatches.Count(n, FittingBatchSize);

    /// <summary>
    /// <see cref="BatchSize"/>, or fewer images when one batch's activations would not fit this machine's memory
    /// (<see cref="SampleMemory.FittingBatch"/>; image k is the same in any batch, so only the speed changes).
    /// </summary>
    public int FittingBatchSize => SampleMemory.FittingBatch(BatchSize, SampleMemory.UNetBytesPerImage(Config.Network, Image.Height) ?? 0);

    /// <summary>
    /// Draws <paramref name="n"/> images [n, C, H, W] in [-1, 1], <see cref="BatchSize"/> at a time. Image k draws all its
    /// noise from a generator of its own, seeded from one draw of <paramref name="generator"/> and k
    /// (<see cref="SampleSeeds"/>), so it is the same image at any batch size.
    /// </summary>
    public Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, IProgress<StepInfo>? progress = null) =>
        Sample(n, scheduler, steps, generator, null, progress);

    /// <summary>The class names of a class-conditional model (label order); empty for an unconditional one.</summary>
    public IReadOnlyList<string> ClassNames => IsConditional ? Image.ClassNames : [];

    /// <summary>True when the U-Net takes class labels (trained with <c>--cond class</c>).</summary>
    public bool IsConditional => Config.Network.ClassCount is not null;

    /// <summary>
    /// As <see cref="Sample(long, IScheduler, int, Generator, IProgress{StepInfo}?)"/>, with what <paramref name="conditioning"/>
    /// gives the network (null: nothing, the null input of a conditional model): class labels or prompts with classifier-free
    /// guidance (<see cref="Conditioning"/>, <see cref="TextConditioning"/>), classifier guidance around either
    /// (<see cref="ClassifierGuidance.Over"/>). The plan is validated once, then builds each batch's denoiser; the noise is drawn
    /// as without it, so the same seed gives the same starting noise at every guidance scale.
    /// </summary>
    public Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, ISamplingConditioning? conditioning, IProgress<StepInfo>? progress = null)
    {
        if (Config.Sde is { } sde) throw sde.DiscreteSchedulerRefusal(Directory, scheduler.Name);
        if (n < 1) throw DiffuseException.For("n", $"n must be at least 1, got {n}");
        var plan = conditioning ?? Unconditional.Instance;
        plan.Validate(Config, Directory, n);
        // A learned-variance model's last C channels are its variance: only schedulers that read it get them.
        bool dropVariance = HasLearnedVariance && !scheduler.TakesVarianceChannels;
        return InBatches(n, steps, generator, progress, (start, shape, generators, batchProgress) =>
        {
            var denoise = plan.Denoiser(Denoise, Config, new SamplingBatch(start, shape, generators));
            Func<Tensor, Tensor, Tensor> model = dropVariance ? (x, t) => LearnedVariance.Prediction(denoise(x, t), Image.Channels) : denoise;
            return SamplingLoop.Run(model, scheduler, steps, shape, generators, batchProgress);
        });
    }

    /// <summary>True when the U-Net takes prompts (trained with <c>--cond text</c>).</summary>
    public bool IsTextConditional => Config.Network.Text is not null;

    /// <summary>The tokenizer of a text-conditional model (its vocabulary is in config.json); null for other models.</summary>
    public Text.WordTokenizer? Tokenizer => tokenizer ??= Config.Network.Text is { } text ? new Text.WordTokenizer(text.Vocabulary, text.MaxLength) : null;

    private Text.WordTokenizer? tokenizer;

    /// <summary>True when the network's last C channels are a learned variance (variance_type learned or learned_range).</summary>
    bool HasLearnedVariance => Config.Scheduler.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;

    public long ScoreStepsFor(long n, ScoreSamplerSettings settings) => Batches(n) * (ScoreSamplers.PlannedEvaluations(settings) ?? 1000);

    /// <summary>
    /// Draws <paramref name="n"/> images [n, C, H, W] in [-1, 1] with a score-based sampler, <see cref="BatchSize"/> at a
    /// time, each image's noise from its own generator; the count of network evaluations is per image (that of one batch).
    /// The pc and langevin samplers' step sizes and the ode sampler's adaptive steps still depend on the whole batch.
    /// </summary>
    public ScoreSample SampleScore(long n, ScoreSamplerSettings settings, Generator generator, IProgress<StepInfo>? progress = null)
    {
        settings.Validate();
        if (Config.SuperRes is not null)
            throw new DiffuseException($"'{Directory}' is a super-resolution model; it upscales with the schedulers, not the score sampler '{settings.Name}'");
        var view = ((IDiffusionModel)this).ScoreView(settings.Steps);
        long perBatch = ScoreSamplers.PlannedEvaluations(settings) ?? 1000, evaluations = 0;
        var images = InBatches(n, (int)Math.Min(int.MaxValue, perBatch), generator, progress, (_, shape, generators, batchProgress) =>
        {
            var reporter = batchProgress is null ? null : StepInfo.FromScoreSampler(batchProgress);
            var result = ScoreSamplers.Run(view.Sde, view.Score, shape, generators, settings, reporter);
            evaluations = Math.Max(evaluations, result.FunctionEvaluations);
            return result.Samples;
        });
        return new ScoreSample(images, evaluations);
    }

    /// <summary>
    /// Runs <paramref name="draw"/> on each batch (its first index, shape and its images' generators: <see cref="SampleBatches"/>)
    /// and joins the batches, clamped to [-1, 1].
    /// </summary>
    Tensor InBatches(long n, int stepsPerBatch, Generator generator, IProgress<StepInfo>? progress, Func<long, long[], SampleGenerators, IProgress<StepInfo>?, Tensor> draw) =>
        SampleBatches.Run(n, FittingBatchSize, stepsPerBatch, generator, progress, (long)Image.Channels * Image.Height * Image.Width,
            (start, size, generators, batchProgress) => draw(start, [size, Image.Channels, Image.Height, Image.Width], generators, batchProgress).clamp(-1, 1));

    /// <summary>The unconditional network in its precision, float32 in and out; a learned variance's channels included.</summary>
    public Tensor Denoise(Tensor x, Tensor t) => Denoise(new DenoiserInput(x, t));

    /// <summary>The network on <paramref name="input"/> in its precision (x_t and the low-resolution image converted), float32 out.</summary>
    public Tensor Denoise(DenoiserInput input)
    {
        if (Precision == ScalarType.Float32) return Network.Forward(input);
        var low = input.Condition.LowResolution;
        var converted = input with
        {
            X = input.X.to(Precision),
            Condition = low is null ? input.Condition : input.Condition with { LowResolution = low.to(Precision) },
        };
        return Network.Forward(converted).to(ScalarType.Float32);
    }

    public void Dispose() => Network.Dispose();
}
