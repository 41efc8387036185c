using System.CommandLine;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary>
/// <c>diffuse eval quality</c> (and <c>diffuse eval</c> itself): FCD, confidence and class entropy of an image model's samples;
/// the sliced Wasserstein distance of a 2-D model's.
/// </summary>
public sealed class QualityCommand : DiffuseCommand
{
    public const int DefaultSamples = 10_000;

    readonly Option<string?> modelDir = Common.Model();
    readonly Option<string> weights = Common.Weights();
    readonly Option<int> count = Common.Count("samples to score", DefaultSamples, 2);
    readonly Option<long> seed = Common.Seed("seed of the sampling noise (and of the real images drawn)");
    readonly Option<string?> data = TrainingOptions.Data("images: the labelled dataset to score against (default: the model's)");
    readonly Option<string?> grid = QualityScoring.Grid();
    readonly Option<string?> cacheDir = Common.CacheDir();
    readonly Option<string?> dataDir = Common.DataDir();
    readonly Option<int> projections = Opt.Int("--projections", "points: random directions of the sliced Wasserstein distance", 512, 1, 100_000);
    readonly Option<string?> prompts = PromptOptions.File();
    readonly ImageOptions image = new();
    readonly SamplerOptions sampler = new();
    readonly GuidanceOptions guidance = new(withClass: false);
    readonly ClassifierGuidanceOptions classifier = new();

    /// <param name="name">"eval" (the command itself, which also holds the other evaluations) or "quality".</param>
    public QualityCommand(string name) : base(name, name == "quality" ? $"""
        score a model's samples: {Summary}

        diffuse eval quality --model runs/mnist [--n 10000] [--grid first64.png]
        diffuse eval quality --model runs/mnist-cond --n 1000 --guidance 3 --sampler dpmpp_2m --steps 20
        diffuse eval quality --model runs/moons --projections 512
        """ : $"""
        score a model: the quality of its samples (as 'eval quality'), or with a subcommand its likelihood, editing, super-resolution, a cascade, or a synthetic dataset (CAS)

        diffuse eval --model runs/mnist [--n 10000]                             (the same as 'diffuse eval quality')
        diffuse eval nll | inpaint | img2img | superres | cascade | cas ...     (each with --help)

        Quality: {Summary}
        """)
    {
        this.AddOptions(modelDir, count, seed, weights, data, grid, cacheDir, dataDir, projections, prompts);
        image.AddTo(this);
        sampler.AddTo(this);
        guidance.AddTo(this);
        classifier.AddTo(this, sampler, guidance);
        SetAction(Run);
    }

    const string Summary = "images: the FCD (Fréchet Classifier Distance in the features of a small CNN trained on the dataset's real images; " +
        "NOT Inception FID) of N samples against N real images beside the real-vs-real floor, the classifier's mean confidence and the entropy of its " +
        "class histogram (and the label accuracy of conditional and guided models, per prompt for text models); points: the sliced Wasserstein distance " +
        "to fresh data of the samples, of a second draw of the data (the floor) and of a Gaussian fitted to the data (a baseline)";

    int Run(ParseResult result)
    {
        string dir = result.GetValue(modelDir)!;
        var config = Common.ReadConfig(dir);
        if (config.SuperRes is not null)
            throw new UsageException(HeldOutImages.SuperResolutionModel(dir));
        var r = result.CommandResult;
        long seedValue = result.GetValue(seed);
        bool ema = result.GetValue(weights) == "ema";
        int n = result.GetValue(count);
        if (!config.IsImage)
        {
            if (r.FirstGiven(data, grid, cacheDir, dataDir, prompts, image.Precision, image.BatchSize, guidance.Scale, guidance.Rescale, classifier.Directory, classifier.Scale) is { } imageOnly)
                throw new UsageException($"{imageOnly} applies to image models only");
            var points = sampler.Read(result, SamplerOptions.DefaultFor(config), seedValue, ema);
            using var model = PointModel.Load(dir, points.UseEma);
            using var generator = new torch.Generator((ulong)points.Seed);
            using var samples = points.Sample(model, n, generator);
            var scores = SwdScores.Measure(samples, model.Config.Data.Name, result.GetValue(projections), points.Seed);
            Outputs.PrintScores(result.Output(), scores, points.Label(model), n);
            return Cli.Ok;
        }
        if (r.Given(projections)) throw new UsageException("--projections applies to models of 2-D points only");
        var options = sampler.Read(result, SamplerOptions.DefaultFor(config), seedValue, ema);
        var g = guidance.Read(result);
        var guide = classifier.Read(result);
        using var loaded = image.Load(result, dir, options.UseEma);
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        Prompts.Check(loaded, false, r.Given(prompts) ? "prompts" : null);
        string against = result.GetValue(data) ?? config.Data.Name;
        string precision = result.GetValue(image.Precision)!;
        if (loaded.IsTextConditional)
        {
            if (guide.Given) throw new UsageException($"--classifier guides an unconditional model; '{loaded.Directory}' is text-conditional: use --prompts and --guidance");
            return TextScores.Run(result.Output(), loaded, against, n, options, g, precision, load, result.GetValue(grid), result.GetValue(prompts));
        }
        // Classifier guidance: labels cycling through the classifier's classes (balanced), scored as the label accuracy.
        using var attached = guide.Given ? guide.Attach(loaded, options, g, names => Guidance.Conditioning.Cycling(n, names.Count).Labels) : null;
        var conditioning = attached is null ? g.ForEval(loaded, n) : null;
        if (attached is not null) options = options with { UnclippedScheduler = attached.ClipsBeforeGuidance };
        var guided = attached is null ? null : new QualityScoring.GuidedLabels(attached.Labels, attached.ClassNames);
        var report = QualityScoring.Evaluate(loaded, against, n, options, load, result.GetValue(grid), result.Output(), conditioning, guided: guided);
        string label = conditioning is null ? "" : $", guidance {g.Scale:0.###}" + (g.Rescale > 0 ? $", rescale {g.Rescale:0.###}" : "");
        if (attached is not null) label = $", classifier scale {guide.Scale:0.###}";
        Outputs.PrintImageScores(result.Output(), report, $"{options.Label(loaded)}, {precision}{label}");
        return Cli.Ok;
    }
}
