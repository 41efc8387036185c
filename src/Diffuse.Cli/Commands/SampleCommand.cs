using System.CommandLine;
using Diffuse.Api;
using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse sample</c>: images as a grid or one PNG each (one model, or a cascade); points as a scatter plot or CSV.</summary>
public sealed class SampleCommand : DiffuseCommand
{
    /// <summary>The default --n of images (a grid of 8 x 8) and of points (a scatter plot).</summary>
    const int DefaultImages = 64, DefaultPoints = 2000;

    readonly Option<string?> modelDir = Common.Model(required: false);
    readonly Option<string> weights = Common.Weights();
    readonly Option<int?> count = Opt.OptionalInt("--n", $"number of samples (default {DefaultImages} for images, {DefaultPoints} for points)", 1, 10_000_000);
    readonly Option<string?> outFile = Common.Out("the output: .png (a grid of images, or points over fresh data) or .csv (points)", required: false);
    readonly Option<string?> outDir = Opt.Text("--out-dir", "images only: a new or empty folder for 000000.png, 000001.png, ...", helpName: "DIR");
    readonly Option<long> seed = Common.Seed("seed of the sampling noise");
    readonly Option<bool> force = Common.Force("overwrite --out if it exists, or write into a non-empty --out-dir");
    readonly Option<string?> prompt = PromptOptions.Prompt();
    readonly ImageOptions image = new();
    readonly SamplerOptions sampler = new();
    readonly GuidanceOptions guidance = new();
    readonly CascadeOptions cascade = new();
    readonly ClassifierGuidanceOptions classifier = new();

    public SampleCommand() : base("sample", """
        draw samples from a trained model: a PNG grid or one PNG per image; points as a scatter plot or CSV

        diffuse sample --model runs/mnist --n 64 --out grid.png                       (images: a grid)
        diffuse sample --model runs/mnist --n 1000 --out-dir samples/                 (images: one PNG each)
        diffuse sample --model runs/moons --n 2000 --out samples.png                  (points: over fresh data; or .csv)
        diffuse sample --model runs/mnist-cond --class 7 --guidance 3 --out sevens.png
        diffuse sample --model runs/mnist-text --prompt "a handwritten 3" --guidance 3 --out threes.png
        diffuse sample --cascade runs/base14,runs/sr28 --n 64 --out grid.png --cond-noise 25
        """)
    {
        this.AddOptions(modelDir, count, outFile, outDir, seed, weights, force, prompt);
        image.AddTo(this);
        sampler.AddTo(this);
        guidance.AddTo(this);
        cascade.AddTo(this);
        classifier.AddTo(this, sampler, guidance);
        this.Check(CheckOutputs);
        SetAction(Run);
    }

    void CheckOutputs(System.CommandLine.Parsing.SymbolResult r)
    {
        bool isCascade = r.Given(cascade.Models);
        if (isCascade == r.Given(modelDir))
            throw new UsageException(isCascade ? "--model and --cascade exclude each other: --cascade names both models" : "'sample' needs --model DIR (or --cascade BASE,SR)");
        if (!isCascade && r.Given(cascade.NoiseLevel)) throw new UsageException("--cond-noise applies with --cascade (and to 'diffuse upscale')");
        if (isCascade && r.Given(classifier.Directory)) throw new UsageException("--classifier does not apply to --cascade; guide a single model");
        if (r.Given(outFile) == r.Given(outDir))
            throw new UsageException("images need exactly one of --out FILE.png (a grid) and --out-dir DIR (one PNG each); points need --out FILE");
        if (r.GetValue(outDir) is { } dir)
        {
            if (File.Exists(dir)) throw new UsageException($"--out-dir '{dir}' is a file; give a folder");
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any() && !r.GetValue(force))
                throw new UsageException($"--out-dir '{dir}' is not empty; pass --force to write into it or choose another folder");
        }
    }

    int Run(ParseResult result)
    {
        if (result.GetValue(modelDir) is not { } dir) return SampleImages(result, null, null);
        var config = Common.ReadConfig(dir);
        if (config.SuperRes is not null)
            throw new UsageException($"'{dir}' is a super-resolution model: use 'diffuse upscale --model {dir} --image SMALL.png', or make it the second stage of --cascade BASE,{dir}");
        // Images take the image-only options (classes, prompts, cascades, a folder of PNGs); every other kind is generic.
        return config.IsImage ? SampleImages(result, dir, config) : SampleData(result, dir, config);
    }

    /// <summary>Images of one model, or of a cascade when <paramref name="dir"/> is null.</summary>
    int SampleImages(ParseResult result, string? dir, ModelConfig? config)
    {
        if (result.GetValue(outFile) is { } file) Common.CheckOutFile(file, [".png"], result.GetValue(force));
        int n = result.GetValue(count) ?? DefaultImages;
        var options = sampler.Read(result, config is null ? SamplerSettings.DefaultEditingSampler : SamplerOptions.DefaultFor(config),
            result.GetValue(seed), result.GetValue(weights) == "ema");
        var g = guidance.Read(result);
        var guide = classifier.Read(result);
        using var stages = dir is null
            ? LoadedCascade.Load(result.GetValue(cascade.Models)!, options, d => image.Load(result, d, options.UseEma), result.GetValue(cascade.NoiseLevel)) : null;
        using var loaded = dir is null ? null : image.Load(result, dir, options.UseEma);
        var model = stages?.Base ?? loaded!;
        Prompts.Check(model, result.Given(guidance.Class), result.Given(prompt) ? "prompt" : null);
        // After sampling: a score sampler's label carries the network evaluations it took.
        string Label() => $"{(stages is null ? options.Label(model) : stages.Label(options))}, {result.GetValue(image.Precision)}";
        if (model.IsTextConditional)
        {
            if (stages is not null) throw new UsageException("--cascade takes an unconditional or class-conditional base model, not a text-conditional one");
            if (guide.Given) throw new UsageException($"--classifier guides an unconditional model; '{model.Directory}' is text-conditional: use --prompt and --guidance");
            var (text, textColumns, about) = Prompts.ForSample(result.GetValue(prompt), model, n, g);
            using var generator = new torch.Generator((ulong)options.Seed);
            using var drawn = options.Sample(model, text.Prompts.Length, generator, text);
            return WriteImages(result, model.Config, drawn, textColumns, Label() + about);
        }
        int? columns = null;
        string what = "";
        using var attached = guide.Given ? guide.AttachForSample(model, options, g, ref n, ref columns, ref what) : null;
        if (attached is not null) options = options with { UnclippedScheduler = attached.ClipsBeforeGuidance };
        var classes = attached is null ? g.ForSample(model, n) : null;
        if (classes is not null) (n, columns, what) = g.Describe(model, classes);
        var conditioning = attached?.Plan ?? classes;
        using (var generator = new torch.Generator((ulong)options.Seed))
        using (var images = stages is null ? options.Sample(model, n, generator, conditioning) : stages.Sample(options, n, generator, conditioning))
            return WriteImages(result, model.Config, images, columns, Label() + what);
    }

    int WriteImages(ParseResult result, ModelConfig config, torch.Tensor images, int? columns, string label)
    {
        var file = result.GetValue(outFile);
        var output = new SampleOutput(file ?? result.GetValue(outDir)!, config) { Columns = columns, Label = label, Folder = file is null };
        result.Output().WriteLine(DataKinds.For(config).WriteSamples(images, output));
        return Cli.Ok;
    }

    /// <summary>A model of points, or of any kind registered beside them: loaded, sampled and written by its kind.</summary>
    int SampleData(ParseResult result, string dir, ModelConfig config)
    {
        var kind = DataKinds.For(config);
        var r = result.CommandResult;
        if (r.FirstGiven(outDir, image.BatchSize, image.Precision) is not null)
            throw new UsageException("--out-dir, --batch-size and --precision apply to image models only");
        if (r.Given(prompt)) throw new UsageException("--prompt needs a text-conditional image model (train --cond text); this is a model of 2-D points");
        if (r.FirstGiven(guidance.Class, guidance.Scale, guidance.Rescale, classifier.Directory, classifier.Scale) is { } other)
            throw new UsageException($"{other} applies to {(other.StartsWith("--classifier", StringComparison.Ordinal) ? "" : "class-conditional ")}image models only");
        string file = result.GetValue(outFile)!;
        Common.CheckOutFile(file, [.. kind.OutputExtensions], result.GetValue(force));
        int n = result.GetValue(count) ?? DefaultPoints;
        var options = sampler.Read(result, SamplerOptions.DefaultFor(config), result.GetValue(seed), result.GetValue(weights) == "ema");
        using var model = kind.Load(dir, options.UseEma);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, generator);
        result.Output().WriteLine(kind.WriteSamples(samples, new SampleOutput(file, config) { Seed = options.Seed, Label = options.Label(model) }));
        return Cli.Ok;
    }
}
