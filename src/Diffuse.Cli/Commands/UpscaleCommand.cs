using System.CommandLine;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse upscale</c>: SR3 super-resolution of a low-resolution image.</summary>
public sealed class UpscaleCommand : DiffuseCommand
{
    readonly Option<string?> modelDir = Common.Model("a super-resolution model folder written by 'diffuse train --task superres'");
    readonly Option<string> weights = Common.Weights();
    readonly Option<string?> input = Common.Image("the low-resolution input (PNG, JPEG, ...)");
    readonly Option<string?> outFile = Common.Out("the result; with --n > 1 a grid of n results", helpName: "FILE.png");
    readonly Option<int> count = Common.Count("results drawn from the same input", 1, 1, 10_000);
    readonly Option<int> level = Common.CondNoise();
    readonly Option<long> seed = Common.Seed();
    readonly Option<bool> force = Common.Force();
    readonly ImageOptions image = new("images upscaled together");
    readonly SamplerOptions sampler = new(schedulersOnly: "super-resolution");

    public UpscaleCommand() : base("upscale", """
        upscale a low-resolution image with a super-resolution model (SR3; train --task superres)

        diffuse upscale --model runs/sr --image small.png --out big.png [--n 4] [--sampler ddim --steps 50]

        SR3 (Saharia et al. 2021): the model denoises from pure noise with the bicubic upsampling of the input beside x_t, so
        each result is a high-resolution image consistent with the input. The input must have the model's channels and its
        low-resolution size (the model's size / scale, e.g. 14x14 for a x2 model of 28x28 MNIST).
        """)
    {
        this.AddOptions(modelDir, input, outFile, count, level, seed, weights, force);
        image.AddTo(this);
        sampler.AddTo(this);
        this.Check(r => Common.CheckOutFile(r.GetValue(outFile)!, [".png"], r.GetValue(force)));
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        int n = result.GetValue(count), noise = result.GetValue(level);
        var options = sampler.Read(result, SamplerSettings.DefaultEditingSampler, result.GetValue(seed), result.GetValue(weights) == "ema");
        string path = result.GetValue(input)!;
        using var model = image.Load(result, result.GetValue(modelDir)!, options.UseEma);
        var superResolution = new SuperResolution(model);
        superResolution.CheckNoiseLevel(noise);
        using var pixels = ImageFile.Read(path);
        using var signed = PixelScale.ToSigned(pixels);
        using var low = signed.unsqueeze(0).expand(n, -1, -1, -1).contiguous();
        superResolution.CheckInput(low, $"the image '{path}' is");
        using var generator = new torch.Generator((ulong)options.Seed);
        using var images = Upscale(superResolution, low, options, generator, noise);
        string precision = result.GetValue(image.Precision)!;
        EditOptions.Write(result, result.GetValue(outFile)!, images,
            $"{n} upscaling{(n == 1 ? "" : "s")} ({low.shape[3]}x{low.shape[2]} to {model.Image.Width}x{model.Image.Height}, {options.Label(model)}, {precision}{(noise > 0 ? $", conditioning noise level {noise}" : "")})");
        return Cli.Ok;
    }

    /// <summary>Upscales with a progress bar.</summary>
    static torch.Tensor Upscale(SuperResolution superResolution, torch.Tensor low, SamplerSettings options, torch.Generator generator, int level)
    {
        var model = superResolution.Model;
        var scheduler = options.CreateScheduler(model);
        int steps = options.CheckedSteps(model);
        int total = (int)Math.Min(int.MaxValue, superResolution.StepsFor(low.shape[0], steps));
        return ProgressDisplay.Run($"upscale {options.Sampler}", Math.Max(1, total), report =>
            superResolution.Upscale(low, scheduler, steps, generator, level, new SyncProgress<StepInfo>(s => report(s.Step, $"t={s.Timestep:0.##}"))));
    }
}
