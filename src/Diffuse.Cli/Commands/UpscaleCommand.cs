using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class UpscaleCommand : ICommand
{
    public string Name => "upscale";
    public string Summary => "upscale a low-resolution image with a super-resolution model (SR3; train --task superres)";
    public string Help => $"""
        diffuse upscale --model runs/sr --image small.png --out big.png [--n 4] [--sampler ddim --steps 50]

        SR3 (Saharia et al. 2021): the model denoises from pure noise with the bicubic upsampling of the input beside x_t,
        so each result is a high-resolution image consistent with the input. The input must have the model's channels and
        its low-resolution size (the model's size / scale, e.g. 14x14 for a x2 model of 28x28 MNIST).

          --model DIR          a super-resolution model folder written by 'diffuse train --task superres'
          --image FILE         the low-resolution input (PNG, JPEG, ...)
          --out FILE.png       the result; with --n > 1 a grid of n results
          --n N                results drawn from the same input (default 1)
          --cond-noise S       noise the conditioning to level s of the forward process first (models trained with
                               --cond-noise-max; default 0)
          --precision P        fp32 | bf16, the network's arithmetic (default bf16)
          --batch-size N       images upscaled together (default {ImageModel.DefaultBatchSize})
          --force              overwrite --out if it exists
        {SamplerSettings.HelpText}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["model", "image", "out", "n", "cond-noise", "precision", "batch-size", .. SamplerSettings.ValueNames], ["force", .. SamplerSettings.FlagNames]);
        string outFile = EditInputs.OutFile(a);
        int n = a.Int("n", 1, 1, 10_000);
        int level = a.Int("cond-noise", 0, 0);
        var options = SchedulerOptions(a);
        var precision = ImageArgs.Precision(a);
        string path = a.Require("image");
        using var model = ImageArgs.Load(a.Require("model"), options, precision, a);
        var superResolution = new SuperResolution(model);
        superResolution.CheckNoiseLevel(level);
        using var pixels = ImageFile.Read(path);
        using var signed = PixelScale.ToSigned(pixels);
        using var low = signed.unsqueeze(0).expand(n, -1, -1, -1).contiguous();
        superResolution.CheckInput(low, $"the image '{path}' is");
        using var generator = new torch.Generator((ulong)options.Seed);
        using var images = Upscale(superResolution, low, options, generator, level);
        EditInputs.Write(outFile, images, output, $"{n} upscaling{(n == 1 ? "" : "s")} ({low.shape[3]}x{low.shape[2]} to {model.Image.Width}x{model.Image.Height}, {options.Label(model)}, {precision}{(level > 0 ? $", conditioning noise level {level}" : "")})");
        return Cli.Ok;
    }

    /// <summary>The sampler options of a super-resolution stage: a scheduler (the score samplers draw unconditionally).</summary>
    public static SamplerSettings SchedulerOptions(Args a)
    {
        var options = SamplerSettings.From(a, SamplerSettings.DefaultImageSampler);
        if (options.Score is not null)
            throw new UsageException($"super-resolution runs with the schedulers (ddim, ddpm, dpmpp_2m, ...), not the score sampler '{options.Sampler}'");
        return options;
    }

    /// <summary>Upscales with a progress bar.</summary>
    public static torch.Tensor Upscale(SuperResolution superResolution, torch.Tensor low, SamplerSettings options, torch.Generator generator, int level)
    {
        var model = superResolution.Model;
        var scheduler = options.CreateScheduler(model);
        int steps = options.StepsFor(model);
        if (steps > model.Config.Scheduler.NumTrainTimesteps)
            throw new UsageException($"--steps {steps} exceeds the model's {model.Config.Scheduler.NumTrainTimesteps} training timesteps");
        int total = (int)Math.Min(int.MaxValue, superResolution.StepsFor(low.shape[0], steps));
        return ProgressDisplay.Run($"upscale {options.Sampler}", Math.Max(1, total), report =>
            superResolution.Upscale(low, scheduler, steps, generator, level, new SyncProgress<StepInfo>(s => report(s.Step, $"t={s.Timestep:0.##}"))));
    }
}
