using System.CommandLine;
using Diffuse.IO;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse export</c>: a labelled synthetic dataset from a class-conditional model (data augmentation, CAS).</summary>
public sealed class ExportCommand : DiffuseCommand
{
    readonly Option<string?> modelDir = Common.Model("a class-conditional model folder (train --cond class)");
    readonly Option<string> weights = Common.Weights();
    readonly Option<int?> perClass = Opt.OptionalInt("--per-class", "images of each class", 1, 10_000_000);
    readonly Option<string?> outDir = Common.Out("a new or empty folder", helpName: "DIR");
    readonly Option<long> seed = Common.Seed();
    readonly Option<bool> force = Common.Force("replace --out when it holds an earlier export (never a folder of other files, the working folder, or one holding the model)");
    readonly ImageOptions image = new();
    readonly SamplerOptions sampler = new(schedulersOnly: "class-conditional sampling");
    readonly GuidanceOptions guidance = new(withClass: false);

    public ExportCommand() : base("export", """
        write a labelled synthetic dataset (one PNG folder per class) from a class-conditional model

        diffuse export --model runs/mnist-cond --per-class 1000 --out synth/ [--guidance 2] [--sampler dpmpp_2m --steps 20]

        Draws N images of every class and writes them as OUT/<class name>/000000.png, ... (the layout 'diffuse train --data'
        and 'diffuse eval cas --synthetic' read; characters a file name cannot hold, such as '/', become '-'). The folder is
        written beside OUT first and renamed into place, so a failure leaves nothing half-written.
        """)
    {
        perClass.Required = true;
        this.AddOptions(modelDir, perClass, outDir, seed, weights, force);
        image.AddTo(this);
        sampler.AddTo(this);
        guidance.AddTo(this);
        this.Check(r =>
        {
            try
            {
                LabelledImageFolder.CheckTarget(r.GetValue(outDir)!, r.GetValue(force), r.GetValue(modelDir) is { } model ? [model] : null);
            }
            catch (DiffuseException e)
            {
                throw new UsageException($"--out {e.Message}");
            }
        });
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string dir = result.GetValue(modelDir)!, output = result.GetValue(outDir)!;
        int each = result.GetValue(perClass)!.Value;
        var config = Common.ReadConfig(dir);
        if (!config.IsImage) throw new UsageException($"'{dir}' holds a model of 2-D points; export needs a class-conditional image model");
        if (config.Unet!.NumClasses is not int classes)
            throw new UsageException($"'{dir}' is unconditional; export needs a class-conditional model (train --cond class) to label its images");
        var options = sampler.Read(result, SamplerOptions.DefaultFor(config), result.GetValue(seed), result.GetValue(weights) == "ema");
        var g = guidance.Read(result);
        using var model = image.Load(result, dir, options.UseEma);
        long n = (long)each * classes;
        var conditioning = Guidance.Conditioning.ClassRows(n, classes, g.Scale, g.Rescale);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var images = options.Sample(model, n, generator, conditioning);
        LabelledImageFolder.Write(output, images, conditioning.Labels, model.ClassNames, result.GetValue(force), [dir]);
        string rescale = g.Rescale > 0 ? $", rescale {g.Rescale:0.###}" : "";
        result.Output().WriteLine($"wrote {n} images, {each} of each of {classes} classes, to {output} ({options.Label(model)}, {result.GetValue(image.Precision)}, guidance {g.Scale:0.###}{rescale}, seed {options.Seed})");
        return Cli.Ok;
    }
}
