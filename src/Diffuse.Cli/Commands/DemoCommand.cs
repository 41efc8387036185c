using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Training;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class DemoCommand : ICommand
{
    /// <summary>The demo's training length: about 17 minutes for the tiny U-Net on 2 idle cores.</summary>
    public const int ImageDemoSteps = 2000;
    public const int ImageDemoSamples = 2000;

    public string Name => "demo";
    public string Summary => "the main job: train a tiny U-Net on MNIST (about 20 min on 2 cores), write a grid of digits, print the quality score";
    public string Help => $"""
        diffuse demo [--data mnist] [--out runs/demo-mnist] [--force]
        diffuse demo --data moons                      (the 2-D demo: about a minute)

        Images (mnist, fashion-mnist): trains the 'tiny' U-Net for {ImageDemoSteps} steps of 64 images with the
        'train' defaults, writes samples.png (64 digits, DDIM 50 steps) into the model folder, and prints the
        'eval' scores of {ImageDemoSamples} samples (FCD, confidence, class entropy; the quality classifier is
        trained once, about 1.5 min, and cached).
        Points (moons, swiss_roll, 8gaussians, checkerboard, circles): trains an MLP with the 'train' defaults,
        writes samples.png (2,000 samples over the data) and prints the 'eval' SWD scores (10,000 samples,
        ddpm over every training timestep).
          --data NAME          mnist | fashion-mnist | moons | swiss_roll | 8gaussians | checkerboard | circles (default mnist)
          --out DIR            model folder (default runs/demo-NAME; refused if it holds a model, unless --force)
          --steps N            image training steps (default {ImageDemoSteps})
          --n N                images scored (default {ImageDemoSamples}; 'diffuse eval' scores 10,000)
          --seed S             seed of training and sampling (default 0)
          --data-dir DIR       an existing copy of mnist / fashion-mnist
          --cache-dir DIR      where datasets and the quality classifier are cached (default ~/.cache/diffuse)
          --force              overwrite a model already in --out
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["data", "out", "seed", "steps", "n", "data-dir", "cache-dir"], ["force"]);
        string data = a.Get("data") ?? "mnist";
        string outDir = a.Get("out") ?? Path.Combine("runs", $"demo-{data}");
        long seed = a.Long("seed", 0);
        if (ImageDatasets.Names.Contains(data)) return ImageDemo(a, data, outDir, seed, output);
        Toy2D.Validate(data);
        foreach (var name in new[] { "steps", "n", "data-dir", "cache-dir" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} applies to the image demo only");
        return PointDemo(a, data, outDir, seed, output);
    }

    static int ImageDemo(Args a, string data, string outDir, long seed, TextWriter output)
    {
        var template = TrainTemplate.Images(a.Int("steps", ImageDemoSteps, 1), seed);
        var load = new ImageLoadOptions { DataDir = a.Get("data-dir"), CacheDir = a.Get("cache-dir") };
        var options = new ImageTrainingOptions { Data = data, OutDir = outDir, Template = template, Force = a.Has("force"), Load = load };
        int code = TrainingRuns.Images(options, output, out var outcome);
        if (code != Cli.Ok || outcome.Interrupted) return code;

        var sampler = new SamplerSettings(SamplerSettings.DefaultImageSampler, null, null, seed, UseEma: true);
        using var model = ImageModel.Load(outDir);
        model.UseBFloat16();
        string png = Path.Combine(outDir, "samples.png");
        using (var g = new torch.Generator((ulong)seed))
        using (var grid = sampler.Sample(model, 64, g))
            ImageGrid.WritePng(png, grid);
        output.WriteLine($"wrote 64 generated images to {png}");

        int n = a.Int("n", ImageDemoSamples, 2, 1_000_000);
        var report = QualityScoring.Evaluate(model, data, n, sampler, load, null, output);
        Outputs.PrintImageScores(output, report, $"{sampler.Label(model)}, bf16");
        return Cli.Ok;
    }

    static int PointDemo(Args a, string data, string outDir, long seed, TextWriter output)
    {
        TrainingRuns.Points(data, outDir, TrainTemplate.Points(seed), a.Has("force"), output);

        var options = new SamplerSettings(SamplerSettings.DefaultSampler, null, null, seed, UseEma: true);
        using var model = PointModel.Load(outDir);
        string png = Path.Combine(outDir, "samples.png");
        using (var g = new torch.Generator((ulong)seed))
        using (var samples = options.Sample(model, 2000, g))
            Outputs.WriteSamples(samples, model, options, png);
        output.WriteLine($"wrote 2000 samples over the data to {png}");

        const int n = 10_000;
        using var evalGenerator = new torch.Generator((ulong)seed);
        using var evalSamples = options.Sample(model, n, evalGenerator);
        Outputs.PrintScores(output, SwdScores.Measure(evalSamples, data, 512, seed), $"{options.Label(model)}", n);
        return Cli.Ok;
    }
}
