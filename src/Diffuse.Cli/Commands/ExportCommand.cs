using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse export</c>: a labelled synthetic dataset from a class-conditional model (data augmentation, CAS).</summary>
public sealed class ExportCommand : ICommand
{
    public string Name => "export";
    public string Summary => "write a labelled synthetic dataset (one PNG folder per class) from a class-conditional model";
    public string Help => $"""
        diffuse export --model runs/mnist-cond --per-class 1000 --out synth/ [--guidance 2] [--sampler dpmpp_2m --steps 20]

        Draws N images of every class and writes them as OUT/<class name>/000000.png, ... (the layout 'diffuse train
        --data' and 'diffuse eval --cas --synthetic' read; characters a file name cannot hold, such as '/', become '-').
        The folder is written beside OUT first and renamed into place, so a failure leaves nothing half-written.

          --model DIR          a class-conditional model folder (train --cond class)
          --per-class N        images of each class
          --out DIR            a new or empty folder
          --batch-size N       images sampled together (default {ImageModel.DefaultBatchSize})
          --precision P        fp32 | bf16, the network's arithmetic (default bf16)
        {SamplerSettings.HelpText}
          --guidance W         classifier-free guidance (default 1, see 'diffuse sample')
          --guidance-rescale R as for 'diffuse sample' (default 0)
          --force              replace --out when it is not empty
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["model", "per-class", "out", "batch-size", "precision", "guidance", "guidance-rescale", .. SamplerSettings.ValueNames],
            ["force", .. SamplerSettings.FlagNames]);
        string modelDir = a.Require("model");
        string outDir = a.Require("out");
        int perClass = a.Int("per-class", 0, 1, 10_000_000);
        if (a.Get("per-class") is null) throw new UsageException("'export' needs --per-class N (see 'diffuse export --help')");
        try
        {
            LabelledImageFolder.CheckTarget(outDir, a.Has("force"));
        }
        catch (DiffuseException e)
        {
            throw new UsageException($"--out {e.Message}");
        }
        var config = ModelConfig.FromJson(ModelDirectory.ReadConfig(modelDir), Path.Combine(modelDir, ModelDirectory.ConfigFile));
        if (!config.IsImage) throw new UsageException($"'{modelDir}' holds a model of 2-D points; export needs a class-conditional image model");
        if (config.Unet!.NumClasses is not int classes)
            throw new UsageException($"'{modelDir}' is unconditional; export needs a class-conditional model (train --cond class) to label its images");
        var options = SamplerSettings.From(a, SamplerSettings.DefaultFor(config, SamplerSettings.DefaultImageSampler));
        var guidance = GuidanceSettings.From(a, allowClass: false);
        var precision = ImageArgs.Precision(a);
        using var model = ImageArgs.Load(modelDir, options, precision, a);
        long n = (long)perClass * classes;
        var conditioning = Guidance.Conditioning.ClassRows(n, classes, guidance.Scale, guidance.Rescale);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var images = options.Sample(model, n, generator, conditioning);
        LabelledImageFolder.Write(outDir, images, conditioning.Labels, model.ClassNames, a.Has("force"));
        string rescale = guidance.Rescale > 0 ? $", rescale {guidance.Rescale:0.###}" : "";
        output.WriteLine($"wrote {n} images, {perClass} of each of {classes} classes, to {outDir} ({options.Label(model)}, {precision}, guidance {guidance.Scale:0.###}{rescale}, seed {options.Seed})");
        return Cli.Ok;
    }
}
