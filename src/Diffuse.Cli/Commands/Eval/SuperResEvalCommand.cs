using System.CommandLine;
using Diffuse.Data;
using Diffuse.Editing;
using Diffuse.Pipelines;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse eval superres</c>: a super-resolution model's upscaling of held-out images against bicubic upsampling.</summary>
public sealed class SuperResEvalCommand : DiffuseCommand
{
    readonly Option<string?> modelDir = Common.Model("a super-resolution model folder written by 'diffuse train --task superres'");
    readonly Option<string> weights = Common.Weights();
    readonly Option<int> count = Common.Count("held-out images to upscale", 1000);
    readonly Option<int> level = Common.CondNoise();
    readonly Option<long> seed = Common.Seed();
    readonly Option<string?> cacheDir = Common.CacheDir();
    readonly Option<string?> dataDir = Common.DataDir();
    readonly ImageOptions image = new("images upscaled together");
    readonly SamplerOptions sampler = new(schedulersOnly: "super-resolution");

    public SuperResEvalCommand() : base("superres", """
        super-resolution measured: shrink N held-out images by the model's scale, upscale them with the model and with bicubic interpolation, and report the PSNR against the originals and how often the quality classifier gives the original's label, for both

        diffuse eval superres --model runs/sr28 [--n 1000] [--sampler ddim --steps 50] [--cond-noise 0]
        """)
    {
        this.AddOptions(modelDir, count, level, seed, weights, cacheDir, dataDir);
        image.AddTo(this);
        sampler.AddTo(this);
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string dir = result.GetValue(modelDir)!;
        var config = Common.ReadConfig(dir);
        if (config.SuperRes is null) throw new UsageException($"'eval superres' scores a super-resolution model (train --task superres), but '{dir}' is not one");
        int noise = result.GetValue(level);
        var options = sampler.Read(result, SamplerSettings.DefaultEditingSampler, result.GetValue(seed), result.GetValue(weights) == "ema");
        using var model = image.Load(result, dir, options.UseEma);
        var superResolution = new SuperResolution(model);
        superResolution.CheckNoiseLevel(noise);
        int steps = options.CheckedSteps(model);
        var scheduler = options.CreateScheduler(model);
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        using var held = HeldOutImages.Load(config, model, load, result.GetValue(count), "upscaling");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = ProgressDisplay.Run("upscale", (int)Math.Min(int.MaxValue, model.StepsFor(held.Subset.Count, steps)), r =>
            SuperResolutionEvaluation.Run(superResolution, held.Classifier, held.Subset.Pixels, held.Subset.Labels, scheduler, steps, options.Seed, noise,
                new SyncProgress<StepInfo>(p => r(p.Step, $"t={p.Timestep:0.##}"))));
        int low = superResolution.LowResolutionSize;
        var output = result.Output();
        output.WriteLine($"super-resolution x{report.Scale} ({low}x{low} to {model.Image.Width}x{model.Image.Height}) of {report.Images} held-out images of {config.Data.Name} " +
                         $"({options.Label(model)}, {result.GetValue(image.Precision)}, seed {options.Seed}{(noise > 0 ? $", conditioning noise level {noise}" : "")}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine("                       model     bicubic");
        output.WriteLine($"  PSNR, dB          {report.Psnr,9:F2}   {report.BicubicPsnr,9:F2}   (against the originals; pixels in [0, 1])");
        output.WriteLine($"  label agreement   {report.Accuracy,9:P2}   {report.BicubicAccuracy,9:P2}   (the classifier gives the original's label; originals {report.OriginalAccuracy:P2})");
        output.WriteLine($"  consistency, dB   {report.Consistency,9:F2}   {report.BicubicConsistency,9:F2}   (PSNR of the output shrunk again against the low-resolution input)");
        return Cli.Ok;
    }
}
