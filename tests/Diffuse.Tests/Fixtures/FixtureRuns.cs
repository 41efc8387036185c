using System.Text.Json;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Tests.Fixtures;

// Shared by the golden writer (bench/Diffuse.Bench links this file: 'Diffuse.Bench fixture-goldens') and by
// OldModelFolderTests, so that the goldens and the check are computed by the same code. It uses the library's public
// API only, because the bench program cannot see its internals.

/// <summary>The kinds of model folder under Fixtures/models, one folder each (make-fixtures.sh's <c>train</c> lines).</summary>
public enum FixtureKind { Points, Unconditional, Class, Text, SuperRes, LearnedVariance, SdeVp, Bf16 }

public static class FixtureKinds
{
    static readonly (FixtureKind Kind, string Folder)[] Folders =
    [
        (FixtureKind.Points, "points"), (FixtureKind.Unconditional, "unconditional"), (FixtureKind.Class, "class"),
        (FixtureKind.Text, "text"), (FixtureKind.SuperRes, "superres"), (FixtureKind.LearnedVariance, "learned-variance"),
        (FixtureKind.SdeVp, "sde-vp"), (FixtureKind.Bf16, "bf16"),
    ];

    public static IEnumerable<FixtureKind> All => Folders.Select(f => f.Kind);

    /// <summary>True for the kinds whose folders hold an MLP of 2-D points (the others hold U-Nets of images).</summary>
    public static bool IsPoints(FixtureKind kind) => kind is FixtureKind.Points or FixtureKind.SdeVp;

    public static string Folder(FixtureKind kind) => Folders.Single(f => f.Kind == kind).Folder;

    public static FixtureKind Parse(string folder) =>
        Folders.Where(f => f.Folder == folder).Select(f => (FixtureKind?)f.Kind).SingleOrDefault()
        ?? throw new ArgumentException($"'{folder}' is no fixture kind; expected one of {string.Join(", ", Folders.Select(f => f.Folder))}");
}

/// <summary>
/// What a fixture's runs are asked, stored as JSON in golden.safetensors' metadata (key <see cref="FixtureRuns.SettingsKey"/>),
/// so that the check reruns exactly what the goldens were written with.
/// </summary>
public sealed record FixtureSettings
{
    /// <summary>Samples drawn, and rows of every stored input.</summary>
    public int Samples { get; init; } = 2;
    /// <summary>A deterministic scheduler (DDIM with eta 0 draws nothing after the starting noise).</summary>
    public string Sampler { get; init; } = "ddim";
    public int Steps { get; init; } = 4;
    /// <summary>Classifier-free guidance W and rescale phi of the conditional kinds: both passes and the rescale count.</summary>
    public double GuidanceScale { get; init; } = 3;
    public double GuidanceRescale { get; init; } = 0.5;
    /// <summary>The text kind's prompts; "zebra" is not in the MNIST captions' vocabulary, so [UNK] is exercised.</summary>
    public string[] Prompts { get; init; } = ["a handwritten three", "a zebra seven"];
    /// <summary>The SDE kind's probability-flow ODE: Euler steps from T down to the end time eps (the samplers' default eps).</summary>
    public int OdeSteps { get; init; } = 20;
    public double OdeEps { get; init; } = 1e-3;

    public string ToJson() => JsonSerializer.Serialize(this);

    public static FixtureSettings FromJson(string json) =>
        JsonSerializer.Deserialize<FixtureSettings>(json) ?? throw new ArgumentException("empty fixture settings");
}

/// <summary>
/// The guard's two computations on a loaded fixture folder: (a) the network's raw output on stored inputs, and (b) a
/// deterministic sampling run from stored starting noise, with the conditioning the kind takes.
/// </summary>
/// <remarks>
/// (b) starts from stored noise, not from a seed, because what a seed draws is planned to change (per-sample
/// generators). The library draws x_T inside <see cref="ImageModel.Sample(long, Sampling.IScheduler, int, Generator, IProgress{StepInfo}?)"/>,
/// <see cref="ImageModel.SampleText"/> and <see cref="SuperResolution.Upscale"/>, so this composes their public pieces (the
/// scheduler, <see cref="SamplingLoop.Continue"/>, the guidance wrapper, <see cref="LearnedVariance.Prediction"/>,
/// <see cref="LowResolution.Upsample"/>) the way they do, from x_T on; an SDE model's score samplers draw their prior
/// and step noise alike, so its run is the probability-flow ODE on a fixed grid.
/// </remarks>
public static class FixtureRuns
{
    public const string GoldenFile = "golden.safetensors";
    public const string SettingsKey = "settings", KindKey = "kind", WrittenByKey = "written_by";
    /// <summary>The golden outputs' names in golden.safetensors; every other tensor there is an input.</summary>
    public const string DenoisedKey = "expected.denoised", SampleKey = "expected.sample";

    /// <summary>A folder loaded through the library's loading API, EMA weights (the default).</summary>
    public static IDiffusionModel Load(FixtureKind kind, string directory) =>
        FixtureKinds.IsPoints(kind) ? PointModel.Load(directory) : ImageModel.Load(directory);

    /// <summary>
    /// The stored inputs of a kind, drawn from <paramref name="seed"/>: x_t, t (int64 timesteps; float32 time labels
    /// 999 t for the SDE kind), the starting noise, and the kind's conditioning (labels, prompt tokens, low-resolution
    /// images and their noise levels).
    /// </summary>
    public static Dictionary<string, Tensor> DrawInputs(FixtureKind kind, IDiffusionModel model, FixtureSettings settings, ulong seed)
    {
        using var g = new Generator(seed);
        long n = settings.Samples;
        long[] shape = model is ImageModel image ? [n, image.Image.Channels, image.Image.Height, image.Image.Width] : [n, model.Config.Data.Dim];
        var inputs = new Dictionary<string, Tensor>
        {
            ["x_t"] = randn(shape, generator: g),
            ["noise"] = randn(shape, generator: g),
            ["t"] = kind == FixtureKind.SdeVp
                ? rand([n], generator: g) * Configuration.SdeSpec.TimeLabelScale
                : randint(0, model.Config.Scheduler.NumTrainTimesteps, [n], ScalarType.Int64, generator: g),
        };
        var unet = model.Config.Unet;
        switch (kind)
        {
            case FixtureKind.Class:
                // Distinct classes, so that a mix-up of labels between samples shows.
                inputs["labels"] = randperm(unet!.NumClasses!.Value, generator: g).narrow(0, 0, n);
                break;
            case FixtureKind.Text:
                inputs["tokens"] = Tokens((ImageModel)model, settings.Prompts);
                break;
            case FixtureKind.SuperRes:
                var spec = model.Config.SuperRes!;
                int side = spec.LowResolutionSize(((ImageModel)model).Image.Height);
                inputs["low"] = rand([n, shape[1], side, side], generator: g) * 2 - 1;
                inputs["levels"] = randint(1, spec.CondNoiseMax!.Value + 1, [n], ScalarType.Int64, generator: g);
                break;
        }
        return inputs;
    }

    /// <summary>The prompts as the model's tokenizer encodes them, [prompts, max length] int64.</summary>
    public static Tensor Tokens(ImageModel model, IReadOnlyList<string> prompts)
    {
        var words = model.Tokenizer ?? throw new ArgumentException($"'{model.Directory}' has no tokenizer");
        return tensor(prompts.SelectMany(words.Encode).ToArray(), [prompts.Count, words.MaxLength], ScalarType.Int64);
    }

    /// <summary>(a) The network's raw output on the stored x_t and t, with the kind's conditioning; float32.</summary>
    public static Tensor Denoised(FixtureKind kind, IDiffusionModel model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var noGrad = no_grad();
        var (x, t) = (inputs["x_t"], inputs["t"]);
        return kind switch
        {
            FixtureKind.Class => Labelled((ImageModel)model, inputs["labels"])(x, t),
            FixtureKind.Text => Prompted((ImageModel)model)(x, t, inputs["tokens"]),
            FixtureKind.SuperRes => SuperResNetwork((ImageModel)model, inputs["low"], inputs["levels"])(x, t),
            _ => model.Denoise(x, t),
        };
    }

    /// <summary>
    /// (b) Samples in data space from the stored noise: the scheduler's run, or for the SDE kind the probability-flow ODE.
    /// Images are taken before ImageModel's last step, the clamp to [-1, 1]: samples equal before it are equal after it,
    /// and it would hide a difference in any pixel beyond the range.
    /// </summary>
    public static Tensor Sample(FixtureKind kind, IDiffusionModel model, IReadOnlyDictionary<string, Tensor> inputs, FixtureSettings settings)
    {
        using var scope = NewDisposeScope();
        var x = kind == FixtureKind.SdeVp ? ProbabilityFlowFrom(model, inputs["noise"], settings) : SchedulerRunFrom(kind, model, inputs, settings);
        // As PointModel.Sample ends: back to data space.
        var data = model is ImageModel ? x : x * model.Config.Data.Scale + tensor(model.Config.Data.Mean);
        return data.MoveToOuterDisposeScope();
    }

    static Tensor SchedulerRunFrom(FixtureKind kind, IDiffusionModel model, IReadOnlyDictionary<string, Tensor> inputs, FixtureSettings settings)
    {
        var scheduler = model.CreateScheduler(settings.Sampler);
        var run = scheduler.Begin(settings.Steps);
        var denoise = SamplingDenoiser(kind, model, inputs, settings);
        // As ImageModel.SampleWith: a learned variance's channels go only to schedulers that read them.
        if (model is ImageModel image && model.Config.Unet!.OutChannels == 2 * image.Image.Channels && !scheduler.TakesVarianceChannels)
        {
            var full = denoise;
            denoise = (x, t) => LearnedVariance.Prediction(full(x, t), image.Image.Channels);
        }
        using var unused = new Generator(0); // DDIM at eta 0 draws nothing; the loop asks for a generator all the same
        return SamplingLoop.Continue(denoise, run, inputs["noise"] * run.InitNoiseSigma, 0, unused);
    }

    /// <summary>The denoiser the library's sampling hands the loop for this kind.</summary>
    static Func<Tensor, Tensor, Tensor> SamplingDenoiser(FixtureKind kind, IDiffusionModel model, IReadOnlyDictionary<string, Tensor> inputs,
        FixtureSettings settings)
    {
        if (model is not ImageModel image) return model.Denoise;
        var (w, phi, channels) = (settings.GuidanceScale, settings.GuidanceRescale, image.Image.Channels);
        switch (kind)
        {
            case FixtureKind.Class: // ImageModel.Sample with a Conditioning
                return ClassifierFreeGuidance.Wrap((x, t, labels) => Labelled(image, labels)(x, t), inputs["labels"],
                    image.Config.Unet!.NumClasses!.Value, w, phi, channels);
            case FixtureKind.Text: // ImageModel.SampleText: guidance against the empty prompt
                var tokens = inputs["tokens"];
                var empty = Tokens(image, Enumerable.Repeat("", (int)tokens.shape[0]).ToArray());
                return ClassifierFreeGuidance.Wrap(Prompted(image), tokens, empty, w, phi, channels);
            case FixtureKind.SuperRes: // SuperResolution.Upscale at noise level 0: the conditioning unaugmented, the level told
                return SuperResNetwork(image, inputs["low"], zeros_like(inputs["levels"]));
            default:
                return image.Denoise;
        }
    }

    /// <summary>An SR3 model's network on x_t beside the bicubic upsampling of <paramref name="low"/>, told the noise levels.</summary>
    static Func<Tensor, Tensor, Tensor> SuperResNetwork(ImageModel model, Tensor low, Tensor levels)
    {
        var condition = LowResolution.Upsample(low, model.Config.SuperRes!.Scale);
        var given = new Condition { LowResolution = condition, NoiseLevels = levels };
        return (x, t) => model.Denoise(new DenoiserInput(x, t, given));
    }

    /// <summary>A class-conditional model's network for the given labels, as the model runs it (its precision, float32 out).</summary>
    static Func<Tensor, Tensor, Tensor> Labelled(ImageModel model, Tensor labels) =>
        (x, t) => model.Denoise(new DenoiserInput(x, t, new Condition { ClassLabels = labels }));

    /// <summary>A text-conditional model's network as a function of (x_t, t, prompt tokens).</summary>
    static Func<Tensor, Tensor, Tensor, Tensor> Prompted(ImageModel model) =>
        (x, t, tokens) => model.Denoise(new DenoiserInput(x, t, new Condition { Tokens = tokens }));

    /// <summary>
    /// The probability-flow ODE of the model's SDE (the library's drift, <see cref="Sde.ReverseDrift"/>, on its score)
    /// from a stored prior draw (the VP SDE's prior is N(0, I)), by Euler steps on a fixed grid from T to eps.
    /// </summary>
    /// <remarks>
    /// Not by <see cref="Likelihood.ProbabilityFlow.Sample"/>'s adaptive Dormand-Prince: its step controller turns input
    /// differences of 1e-7 (what another CPU's kernels make) into another step sequence, which moved this fixture's
    /// samples by up to 4e-3 at rtol = atol = 1e-5; on a fixed grid the same differences move them by about 1e-6.
    /// </remarks>
    static Tensor ProbabilityFlowFrom(IDiffusionModel model, Tensor prior, FixtureSettings settings)
    {
        using var noGrad = no_grad();
        // The discretisation N matters to the chain samplers only; the ODE is the SDE's own.
        var view = model.ScoreView(model.Config.Sde!.DiscreteSteps);
        double dt = (view.Sde.T - settings.OdeEps) / settings.OdeSteps;
        var x = prior.alias();
        for (int i = 0; i < settings.OdeSteps; i++)
        {
            using var scope = NewDisposeScope();
            var next = (x - view.Sde.ReverseDrift(view.Score, x, view.Sde.T - i * dt, probabilityFlow: true) * dt).MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        return x;
    }
}
