using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class SampleCommand : ICommand
{
    public string Name => "sample";
    public string Summary => "draw samples from a trained model: a PNG grid or one PNG per image; points as a scatter plot or CSV";
    public string Help => $"""
        diffuse sample --model runs/mnist --n 64 --out grid.png [options]     (images: a grid)
        diffuse sample --model runs/mnist --n 1000 --out-dir samples/         (images: one PNG each)
        diffuse sample --model runs/moons --n 2000 --out samples.png          (points: over fresh data; or .csv)
        diffuse sample --model runs/mnist-cond --class 7 --guidance 3 --out sevens.png   (class-conditional)
        diffuse sample --model runs/mnist-text --prompt "a handwritten 3" --guidance 3 --out threes.png   (text-conditional)
        diffuse sample --cascade runs/base14,runs/sr28 --n 64 --out grid.png [--cond-noise 25]   (a cascade)

          --model DIR          a model folder written by 'diffuse train'
          --n N                number of samples (default 64 for images, 2000 for points)
          --out FILE           .png (or .csv for points)
          --out-dir DIR        images only: a new or empty folder for 000000.png, 000001.png, ...
          --batch-size N       images sampled together (default {ImageModel.DefaultBatchSize})
          --precision P        images: fp32 | bf16, the network's arithmetic (default bf16)
        {SamplerSettings.HelpText}
        {GuidanceSettings.HelpText}
        {Prompts.SampleHelpText}
        {LoadedCascade.HelpText}
        {ClassifierGuidanceSettings.HelpText}
          --force              overwrite --out if it exists
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["model", "cascade", "cond-noise", "n", "out", "out-dir", "batch-size", "precision", "prompt", .. SamplerSettings.ValueNames, .. GuidanceSettings.ValueNames, .. ClassifierGuidanceSettings.ValueNames], ["force", .. SamplerSettings.FlagNames]);
        if (a.Get("cascade") is not null) return SampleImages(a, null, null, output);
        if (a.Get("cond-noise") is not null) throw new UsageException("--cond-noise applies with --cascade (and to 'diffuse upscale')");
        string modelDir = a.Require("model");
        var config = ModelConfig.FromJson(ModelDirectory.ReadConfig(modelDir), Path.Combine(modelDir, ModelDirectory.ConfigFile));
        if (config.SuperRes is not null)
            throw new UsageException($"'{modelDir}' is a super-resolution model: use 'diffuse upscale --model {modelDir} --image SMALL.png', or make it the second stage of --cascade BASE,{modelDir}");
        return config.IsImage ? SampleImages(a, modelDir, config, output) : SamplePoints(a, modelDir, config, output);
    }

    /// <summary>Images of one model, or of a cascade when <paramref name="modelDir"/> is null (--cascade).</summary>
    static int SampleImages(Args a, string? modelDir, ModelConfig? config, TextWriter output)
    {
        string? outFile = a.Get("out"), outDir = a.Get("out-dir");
        if ((outFile is null) == (outDir is null)) throw new UsageException("images need exactly one of --out FILE.png (a grid) and --out-dir DIR (one PNG each)");
        if (outFile is not null) CheckOutFile(outFile, [".png"], a.Has("force"));
        if (outDir is not null)
        {
            if (File.Exists(outDir)) throw new UsageException($"--out-dir '{outDir}' is a file; give a folder");
            if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !a.Has("force"))
                throw new UsageException($"--out-dir '{outDir}' is not empty; pass --force to write into it or choose another folder");
        }
        int n = a.Int("n", 64, 1, 10_000_000);
        var options = SamplerSettings.From(a, config is null ? SamplerSettings.DefaultImageSampler : SamplerSettings.DefaultFor(config, SamplerSettings.DefaultImageSampler));
        var guidance = GuidanceSettings.From(a);
        var classifierGuidance = ClassifierGuidanceSettings.From(a);
        var precision = ImageArgs.Precision(a);
        using var cascade = modelDir is null ? LoadedCascade.Load(a, options, precision) : null;
        using var loaded = modelDir is null ? null : ImageArgs.Load(modelDir, options, precision, a);
        var model = cascade?.Base ?? loaded!;
        Prompts.Check(a, model, "prompt");
        if (model.IsTextConditional)
        {
            if (cascade is not null) throw new UsageException("--cascade takes an unconditional or class-conditional base model, not a text-conditional one");
            if (classifierGuidance.Given) throw new UsageException($"--classifier guides an unconditional model; '{model.Directory}' is text-conditional: use --prompt and --guidance");
            return SampleText(a, model, n, options, guidance, precision, outFile, outDir, output);
        }
        if (cascade is not null && classifierGuidance.Given) throw new UsageException("--classifier does not apply to --cascade; guide a single model");
        int? columns = null;
        string what = "";
        using var classifier = classifierGuidance.Given ? ClassifierGuided(model, options, guidance, classifierGuidance, ref n, ref columns, ref what) : null;
        if (classifier is not null) options = options with { UnclippedScheduler = model.ClassifierGuidance!.ClipRange is not null };
        var conditioning = classifier is null ? guidance.ForSample(model, n) : null;
        if (conditioning is not null)
        {
            // Without --class: ceil(n / K) of each class, one grid row per class.
            if (guidance.Class is null)
            {
                columns = (int)Guidance.Conditioning.PerClass(n, model.ClassNames.Count);
                what = $", one row per class ({columns} each)";
            }
            else
            {
                what = $", class {conditioning.Labels[0]} '{model.ClassNames[(int)conditioning.Labels[0]]}'";
            }
            n = conditioning.Labels.Length;
            what += $", guidance {guidance.Scale:0.###}" + (guidance.Rescale > 0 ? $", rescale {guidance.Rescale:0.###}" : "");
        }
        using var generator = new torch.Generator((ulong)options.Seed);
        using var images = cascade is null ? options.Sample(model, n, generator, conditioning) : cascade.Sample(options, n, generator, conditioning);
        string label = cascade is null ? options.Label(model) : cascade.Label(options);
        return WriteImages(images, outFile, outDir, columns, $"{label}, {precision}{what}", output);
    }

    static int SampleText(Args a, ImageModel model, int n, SamplerSettings options, GuidanceSettings guidance, string precision,
        string? outFile, string? outDir, TextWriter output)
    {
        var (text, columns, what) = Prompts.ForSample(a, model, n, guidance);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var images = options.SampleText(model, text.Prompts.Length, generator, text);
        return WriteImages(images, outFile, outDir, columns, $"{options.Label(model)}, {precision}{what}", output);
    }

    static int WriteImages(torch.Tensor images, string? outFile, string? outDir, int? columns, string label, TextWriter output)
    {
        if (outFile is not null)
        {
            ImageGrid.WritePng(outFile, images, columns);
            output.WriteLine($"wrote a grid of {images.shape[0]} images to {outFile} ({label})");
        }
        else
        {
            Directory.CreateDirectory(outDir!);
            var written = ImageGrid.WriteEach(outDir!, images);
            output.WriteLine($"wrote {written.Count} images to {outDir} ({label})");
        }
        return Cli.Ok;
    }

    /// <summary>Attaches classifier guidance to --class of the classifier, or to ceil(n / K) of each class (one grid row per class).</summary>
    static ClassifierGuidanceSettings.Attached ClassifierGuided(ImageModel model, SamplerSettings options, GuidanceSettings guidance,
        ClassifierGuidanceSettings classifierGuidance, ref int n, ref int? columns, ref string what)
    {
        long count = n;
        var attached = classifierGuidance.Attach(model, options, guidance, names => guidance.Class is { } chosen
            ? Guidance.Conditioning.Single(count, Guidance.ClassLabels.Resolve(chosen, names)).Labels
            : Guidance.Conditioning.ClassRows(count, names.Count).Labels);
        n = attached.Labels.Length;
        if (guidance.Class is null)
        {
            columns = (int)Guidance.Conditioning.PerClass(count, attached.ClassNames.Count);
            what = $", one row per class ({columns} each)";
        }
        else
        {
            what = $", class {attached.Labels[0]} '{attached.ClassNames[(int)attached.Labels[0]]}'";
        }
        what += $", classifier scale {classifierGuidance.Scale:0.###}";
        return attached;
    }

    static int SamplePoints(Args a, string modelDir, ModelConfig config, TextWriter output)
    {
        if (a.Get("out-dir") is not null || a.Get("batch-size") is not null || a.Get("precision") is not null)
            throw new UsageException("--out-dir, --batch-size and --precision apply to image models only");
        if (a.Get("prompt") is not null) throw new UsageException("--prompt needs a text-conditional image model (train --cond text); this is a model of 2-D points");
        if (GuidanceSettings.ValueNames.Concat(ClassifierGuidanceSettings.ValueNames).FirstOrDefault(name => a.Get(name) is not null) is { } guidance)
            throw new UsageException($"--{guidance} applies to {(guidance.StartsWith("classifier", StringComparison.Ordinal) ? "" : "class-conditional ")}image models only");
        string outFile = a.Require("out");
        CheckOutFile(outFile, [".png", ".csv"], a.Has("force"));
        int n = a.Int("n", 2000, 1, 10_000_000);
        var options = SamplerSettings.From(a, SamplerSettings.DefaultFor(config, SamplerSettings.DefaultSampler));
        using var model = PointModel.Load(modelDir, options.UseEma);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, generator);
        Outputs.WriteSamples(samples, model, options, outFile);
        output.WriteLine($"wrote {n} samples to {outFile}");
        return Cli.Ok;
    }

    static void CheckOutFile(string outFile, string[] extensions, bool force)
    {
        string ext = Path.GetExtension(outFile).ToLowerInvariant();
        if (!extensions.Contains(ext)) throw new UsageException($"--out must end in {string.Join(" or ", extensions)}, got '{outFile}'");
        if (Directory.Exists(outFile)) throw new UsageException($"--out '{outFile}' is a folder; give a file name ending in {string.Join(" or ", extensions)}");
        var outFolder = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (outFolder is not null && !Directory.Exists(outFolder)) throw new UsageException($"the folder of --out '{outFile}' does not exist; create it first");
        if (File.Exists(outFile) && !force) throw new UsageException($"'{outFile}' already exists; pass --force to overwrite it");
    }
}
