using System.CommandLine;
using Diffuse.Editing;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse img2img</c>: SDEdit, the input noised to --strength and denoised with any scheduler.</summary>
public sealed class Img2ImgCommand : DiffuseCommand
{
    readonly EditOptions edit = new();
    readonly SamplerOptions sampler = new(schedulersOnly: "img2img");
    readonly Option<double> strength = Strength();

    public Img2ImgCommand() : base("img2img", """
        re-imagine an image (SDEdit): noise it to --strength and denoise with any scheduler

        diffuse img2img --model runs/mnist --image sketch.png --strength 0.6 --out out.png [--sampler ddim --steps 50]

        SDEdit (Meng et al. 2022): the input is noised to the level of strength s in (0, 1] and denoised from there; small s
        keeps the input, s = 1 ignores it. Of an N-step run (--steps) the last floor(N s) steps are taken, as diffusers does.
        """)
    {
        edit.AddTo(this);
        Options.Add(strength);
        sampler.AddTo(this);
        SetAction(Run);
    }

    /// <summary>--strength S in (0, 1].</summary>
    public static Option<double> Strength() => Opt.Double("--strength", "how far the input is noised: 0 keeps it, 1 ignores it", 0.6, new Bounds(0, true, 1));

    int Run(ParseResult result)
    {
        string outFile = result.GetValue(edit.Out)!;
        int n = result.GetValue(edit.Count);
        double s = result.GetValue(strength);
        var options = sampler.Read(result, SamplerSettings.DefaultEditingSampler, result.GetValue(edit.Seed), result.GetValue(edit.Weights) == "ema");
        using var model = edit.LoadModel(result);
        int steps = options.CheckedSteps(model);
        using var image = edit.ReadImage(result, model);
        var scheduler = options.CreateScheduler(model);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var batch = image.expand(n, -1, -1, -1).contiguous();
        int start = Img2Img.StartStep(steps, s);
        using var edited = ProgressDisplay.Run("img2img", Math.Max(1, steps - start), report =>
            Img2Img.Run(model.Denoise, scheduler, steps, s, batch, generator, new SyncProgress<StepInfo>(p => report(p.Step, $"t={p.Timestep:0.##}"))));
        using var clamped = edited.clamp(-1, 1);
        EditOptions.Write(result, outFile, clamped, $"{n} edit{(n == 1 ? "" : "s")} (strength {s}, {options.Sampler}, {steps - start} of {steps} steps)");
        return Cli.Ok;
    }
}
