using System.CommandLine;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Training;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary>
/// <c>diffuse demo</c>: train, sample and score in one go, composed of the library's runs and the CLI's shared helpers
/// (<see cref="TrainingRuns"/>, <see cref="QualityScoring"/>, <see cref="Outputs"/>), with every training default.
/// </summary>
public sealed class DemoCommand : DiffuseCommand
{
    /// <summary>
    /// The demo's training length, one budget of about 19.5 minutes of training for the tiny U-Net on 2 idle cores (Zen 4):
    /// 3,300 steps in mixed-precision bfloat16 where the CPU computes it (the training default there), 2,000 in float32
    /// elsewhere (bf16 runs 1.65 times the steps per second; docs/results.md, "Quality per compute").
    /// </summary>
    public static int ImageDemoSteps { get; } = CpuFeatures.HasBFloat16 ? 3300 : 2000;
    public const int ImageDemoSamples = 2000;

    /// <summary>
    /// The demo's images are class-conditional (Ho &amp; Salimans 2021): 10% null labels in training, and sampling at
    /// guidance W = 1, the plain conditional model in one forward pass: the best FCD of the scales measured at the demo's
    /// budget (1, 1.25, 2; docs/results.md, "Quality per compute"), and, with the labels, FCD 3.75 against the unconditional
    /// model's 13.0 on MNIST.
    /// </summary>
    public const double ImageDemoCondDrop = 0.1, ImageDemoGuidance = 1;

    /// <summary>The images of samples.png: rounded up to a multiple of the classes (one grid row per class).</summary>
    const int GridImages = 64;
    /// <summary>The 2-D demo's samples: drawn over the data, and scored (as 'eval' does).</summary>
    const int PointSamples = 2000, PointScored = 10_000, Projections = 512;

    const string DefaultData = "mnist";

    readonly Option<string?> data = TrainingOptions.Data($"{string.Join(" | ", ImageDatasets.Names.Concat(Toy2D.Names))} (default {DefaultData})");
    readonly Option<string?> outDir = Common.Out("model folder (default runs/demo-NAME; refused if it holds a model, unless --force)", required: false, helpName: "DIR");
    readonly Option<int?> steps = Common.TrainingSteps($"image training steps (default {ImageDemoSteps})");
    readonly Option<int> count = Common.Count($"images scored ('diffuse eval' scores {QualityCommand.DefaultSamples})", ImageDemoSamples, 2, 1_000_000);
    readonly Option<long> seed = Common.Seed("seed of training and sampling");
    readonly Option<string?> dataDir = Common.DataDir();
    readonly Option<string?> cacheDir = Common.CacheDir();
    readonly Option<bool> force = Common.Force("overwrite a model already in --out");

    public DemoCommand() : base("demo", $"""
        the main job: train a tiny U-Net on MNIST (about 20 min on 2 cores), write a grid of digits, print the quality score

        diffuse demo [--data mnist] [--out runs/demo-mnist] [--force]
        diffuse demo --data moons                      (the 2-D demo: about a minute)

        Images (mnist, fashion-mnist): trains the 'tiny' U-Net for {ImageDemoSteps} steps of 64 images with the 'train' defaults, class-conditional (--cond class --cond-drop {ImageDemoCondDrop}), writes samples.png (one row per class, the image default sampler: dpmpp_2m_sde, Karras sigmas, 20 steps, at guidance {ImageDemoGuidance}: the plain conditional model) into the model folder, and prints the 'eval' scores of {ImageDemoSamples} samples, labels cycling through the classes (FCD, confidence, class entropy, label accuracy; the quality classifier is trained once, about 1.5 min, and cached).
        Points (moons, swiss_roll, 8gaussians, checkerboard, circles): trains an MLP with the 'train' defaults, writes samples.png ({PointSamples} samples over the data) and prints the 'eval' SWD scores ({PointScored} samples, ddpm over every training timestep).
        """)
    {
        this.AddOptions(data, outDir, steps, count, seed, dataDir, cacheDir, force);
        this.Check(r =>
        {
            string name = r.GetValue(data) ?? DefaultData;
            if (!ImageDatasets.Names.Contains(name) && !Toy2D.Names.Contains(name))
                throw new UsageException($"unknown --data '{name}' for the demo: expected one of {string.Join(", ", ImageDatasets.Names.Concat(Toy2D.Names))}");
            if (!ImageDatasets.Names.Contains(name) && r.FirstGiven(steps, count, dataDir, cacheDir) is { } imageOnly)
                throw new UsageException($"{imageOnly} applies to the image demo only");
        });
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string name = result.GetValue(data) ?? DefaultData;
        string dir = result.GetValue(outDir) ?? Path.Combine("runs", $"demo-{name}");
        long seedValue = result.GetValue(seed);
        return ImageDatasets.Names.Contains(name) ? Images(result, name, dir, seedValue) : Points(result, name, dir, seedValue);
    }

    int Images(ParseResult result, string name, string dir, long seedValue)
    {
        var output = result.Output();
        var load = new ImageLoadOptions { DataDir = result.GetValue(dataDir), CacheDir = result.GetValue(cacheDir) };
        var options = new ImageTrainingOptions
        {
            Data = name, OutDir = dir, Template = TrainTemplate.ImageDemo(result.GetValue(steps) ?? ImageDemoSteps, seedValue, ImageDemoCondDrop), Force = result.GetValue(force), Load = load,
        };
        int code = TrainingRuns.Images(options, output, out var outcome);
        if (code != Cli.Ok || outcome.Interrupted) return code;

        var sampler = new SamplerSettings(SamplerSettings.DefaultImageSampler, null, null, seedValue, UseEma: true);
        using var model = ImageModel.Load(dir);
        model.UseBFloat16();
        int classes = model.ClassNames.Count;
        string png = Path.Combine(dir, "samples.png");
        var rows = Conditioning.ClassRows(GridImages, classes, ImageDemoGuidance);
        using (var g = new torch.Generator((ulong)seedValue))
        using (var grid = sampler.Sample(model, rows.Labels.Length, g, rows))
            ImageGrid.WritePng(png, grid, columns: (int)Conditioning.PerClass(GridImages, classes));
        output.WriteLine($"wrote {rows.Labels.Length} generated images to {png}, one row per class");
        int n = result.GetValue(count);
        var report = QualityScoring.Evaluate(model, name, n, sampler, load, null, output, Conditioning.Cycling(n, classes, ImageDemoGuidance));
        Outputs.PrintImageScores(output, report, $"{sampler.Label(model)}, guidance {ImageDemoGuidance:0.###}, bf16");
        return Cli.Ok;
    }

    int Points(ParseResult result, string name, string dir, long seedValue)
    {
        var output = result.Output();
        TrainingRuns.Points(name, dir, TrainTemplate.Points(seedValue), result.GetValue(force), output);
        var options = new SamplerSettings(SamplerSettings.DefaultSampler, null, null, seedValue, UseEma: true);
        using var model = PointModel.Load(dir);
        string png = Path.Combine(dir, "samples.png");
        using (var g = new torch.Generator((ulong)seedValue))
        using (var samples = options.Sample(model, PointSamples, g))
            Api.DataKinds.For(model.Config).WriteSamples(samples, new Api.SampleOutput(png, model.Config) { Seed = options.Seed, Label = options.Label(model) });
        output.WriteLine($"wrote {PointSamples} samples over the data to {png}");
        using var evalGenerator = new torch.Generator((ulong)seedValue);
        using var scored = options.Sample(model, PointScored, evalGenerator);
        Outputs.PrintScores(output, SwdScores.Measure(scored, name, Projections, seedValue), options.Label(model), PointScored);
        return Cli.Ok;
    }
}
